/** `host:port` of the agent's HTTP listener (`127.0.0.1:9464`, `[::1]:9464`, `:9464`). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export function parseListen(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  const host = match[1] ?? (match[2] === '' ? '127.0.0.1' : match[2]!);
  return { host, port };
}
