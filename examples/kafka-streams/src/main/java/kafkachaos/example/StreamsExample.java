package kafkachaos.example;

import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The service under test for kafka-chaos: a stateless Kafka Streams topology that reads the run's
 * input topic, upper-cases each value's ASCII letters and writes it to the output topic. Kafka
 * Streams forwards the record headers (kc-run, kc-producer, kc-seq) unchanged, so every output
 * record carries the identity of the input record it came from.
 *
 * <p>Everything comes from the environment kafka-chaos sets (KAFKA_CHAOS_*); PROCESSING_GUARANTEE
 * (exactly_once_v2 | at_least_once, from the profile's app.env) picks the guarantee.
 */
public final class StreamsExample {
  private StreamsExample() {}

  static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      System.err.println("kafka-chaos-example: missing environment variable " + name);
      System.exit(2);
    }
    return v;
  }

  static String envOr(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  /** Upper-cases ASCII a-z in a copy of the value; other bytes are left alone. */
  static byte[] transform(byte[] value) {
    if (value == null) {
      return null;
    }
    byte[] out = value.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] >= 'a' && out[i] <= 'z') {
        out[i] = (byte) (out[i] - 32);
      }
    }
    return out;
  }

  static Properties config() {
    String guarantee = envOr("PROCESSING_GUARANTEE", StreamsConfig.EXACTLY_ONCE_V2);
    if (!guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2) && !guarantee.equals(StreamsConfig.AT_LEAST_ONCE)) {
      System.err.println("kafka-chaos-example: PROCESSING_GUARANTEE must be exactly_once_v2 or at_least_once, not " + guarantee);
      System.exit(2);
    }
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, env("KAFKA_CHAOS_GROUP_ID"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_CHAOS_BOOTSTRAP"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    if (guarantee.equals(StreamsConfig.AT_LEAST_ONCE)) {
      p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    }
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    // A stateless topology: no state stores, but keep any state directory per run and instance.
    p.put(StreamsConfig.STATE_DIR_CONFIG,
        System.getProperty("java.io.tmpdir") + "/kafka-chaos-streams-" + envOr("KAFKA_CHAOS_RUN_ID", "run")
            + "-" + envOr("KAFKA_CHAOS_INSTANCE", "0"));
    // The brokers' minimum session timeout is 6 s: a crashed instance's partitions move soon.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    String protocol = envOr("KAFKA_CHAOS_SECURITY_PROTOCOL", "PLAINTEXT");
    p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    if (protocol.startsWith("SASL")) {
      String mechanism = envOr("KAFKA_CHAOS_SASL_MECHANISM", "PLAIN").toUpperCase(Locale.ROOT);
      p.put(SaslConfigs.SASL_MECHANISM, mechanism);
      String module = mechanism.startsWith("SCRAM")
          ? "org.apache.kafka.common.security.scram.ScramLoginModule"
          : "org.apache.kafka.common.security.plain.PlainLoginModule";
      p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + env("KAFKA_CHAOS_SASL_USERNAME")
          + "\" password=\"" + env("KAFKA_CHAOS_SASL_PASSWORD") + "\";");
    }
    if (protocol.endsWith("SSL")) {
      String ca = System.getenv("KAFKA_CHAOS_SSL_CA_FILE");
      if (ca != null && !ca.isBlank()) {
        p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, ca);
      }
    }
    return p;
  }

  public static void main(String[] args) throws InterruptedException {
    String input = env("KAFKA_CHAOS_INPUT_TOPIC");
    String output = env("KAFKA_CHAOS_OUTPUT_TOPIC");
    Properties props = config();

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .mapValues(StreamsExample::transform)
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch done = new CountDownLatch(1);
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING && previous != KafkaStreams.State.RUNNING) {
        System.out.println("kafka-chaos-example: RUNNING (" + props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG) + ")");
        System.out.flush();
      } else if (next == KafkaStreams.State.ERROR) {
        System.out.println("kafka-chaos-example: ERROR");
        System.out.flush();
      }
      if (next == KafkaStreams.State.NOT_RUNNING || next == KafkaStreams.State.ERROR) {
        done.countDown();
      }
    });
    // SIGTERM stops gracefully: close() commits (or for EOS commits the open transaction) and leaves the group.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("kafka-chaos-example: stopping");
      System.out.flush();
      streams.close();
      System.out.println("kafka-chaos-example: stopped");
      System.out.flush();
    }, "kafka-chaos-example-shutdown"));

    streams.start();
    done.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      streams.close();
      System.exit(1);
    }
  }
}
