export { LinuxKernel, type LinuxKernelOptions, executableCandidates, parseLauncherFds } from './linux-kernel.js';
export { loadAddon, candidatePaths, packageRoot, NativeLoadError } from './loader.js';
export type { NativeAddon, SpawnOptions } from './addon.js';
