/**
 * Fixed test ports, shifted by `TEST_PORT_OFFSET` (default 0) so two
 * checkouts can run their suites at once, each against its own stack
 * (`STACK_DIR`, `REDIS_PORT`, `KAFKA_PORTS`, … — see `.env.example`).
 */
const offset = Number(process.env.TEST_PORT_OFFSET ?? 0);
if (!Number.isInteger(offset) || offset < 0 || offset > 20_000) {
  throw new RangeError(
    `TEST_PORT_OFFSET must be an integer in [0, 20000] (got ${process.env.TEST_PORT_OFFSET})`,
  );
}

/** `base` shifted by the checkout's offset. */
export const testPort = (base: number): number => base + offset;
