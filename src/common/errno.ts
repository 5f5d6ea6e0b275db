/** WASI errno values (wasi-libc's numbering), returned negated by `webmk` imports. */
export const Errno = {
  ACCES: 2,
  AGAIN: 6,
  BADF: 8,
  BUSY: 10,
  FAULT: 21,
  INVAL: 28,
  IO: 29,
  MSGSIZE: 35,
  NOENT: 44,
  NOMEM: 48,
  NOSPC: 51,
  NOSYS: 52,
  PIPE: 64,
  RANGE: 68,
  SRCH: 71,
} as const;
