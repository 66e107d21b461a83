// Loaded into each run (node --import) by scripts/accuracy.mjs. When a run overstays, the
// campaign sends SIGUSR2 before killing it: this prints what still keeps its event loop alive
// (sockets with their addresses, child processes, timers) to the file in KC_HANDLES_FILE.
import fs from "node:fs";

const file = process.env.KC_HANDLES_FILE;
if (file) {
  process.on("SIGUSR2", () => {
    const lines = [
      `pid ${process.pid}`,
      `resources ${process.getActiveResourcesInfo().join(", ")}`,
    ];
    for (const h of process._getActiveHandles()) {
      const name = h?.constructor?.name ?? typeof h;
      if (name === "Socket") {
        const ref = h._handle?.hasRef?.();
        lines.push(
          `socket ${h.localAddress}:${h.localPort} -> ${h.remoteAddress}:${h.remotePort} ref=${ref} destroyed=${h.destroyed}`,
        );
      } else if (name === "ChildProcess") {
        lines.push(`child pid ${h.pid} exit ${h.exitCode} ${h.spawnargs?.join(" ")}`);
      } else {
        lines.push(`handle ${name}${h?.hasRef ? ` ref=${h.hasRef()}` : ""}`);
      }
    }
    fs.writeFileSync(file, lines.join("\n") + "\n");
  });
}
