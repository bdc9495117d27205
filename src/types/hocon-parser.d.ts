declare module '@pushcorn/hocon-parser' {
  export function parse(options: { text?: string; url?: string; strict?: boolean }): Promise<unknown>;
}
