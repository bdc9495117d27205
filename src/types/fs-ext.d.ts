declare module 'fs-ext' {
  /** flock(2) on an open file: 'ex' or 'sh', with 'nb' for non-blocking ('exnb'), or 'un'. */
  export function flockSync(fd: number, flags: 'ex' | 'sh' | 'exnb' | 'shnb' | 'un'): void;
}
