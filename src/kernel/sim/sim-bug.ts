/**
 * A SimBug is the simulator contradicting itself: an illegal state transition, a
 * struct pid freed twice, a process in no namespace. It is never an errno a program
 * could see (those are KernelError); it means the model is wrong and must fail loudly,
 * like gVisor's "illegal transition" panics.
 */
export class SimBug extends Error {
  override readonly name = 'SimBug';
  constructor(message: string) {
    super(`simulator bug: ${message}`);
  }
}

export function simAssert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SimBug(message);
}
