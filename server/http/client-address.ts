import { isIPv4, isIPv6 } from "node:net";
import type { Request } from "express";

/** The eight 16-bit groups of an IPv6 address, an embedded dotted IPv4 tail included. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The key a client is counted by: its IPv4 address, or the /64 network of its IPv6 address — one
 * subscriber usually holds a whole /64, so counting per address would let it pick a fresh one for
 * every request.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const prefix = ipv6Groups(ip.replace(/%.*$/, "")).slice(0, 4);
  return `${prefix.map((g) => g.toString(16)).join(":")}::/64`;
}

/** Whether `address` (as a socket reports it) is this machine. */
export function isLoopback(address: string): boolean {
  const ip = address.replace(/^::ffff:/i, "");
  return ip === "::1" || (isIPv4(ip) && ip.startsWith("127."));
}

/**
 * The client of a request as the rate limits and checkout rules count it. `req.ip` follows the
 * `trust proxy` setting (TRUST_PROXY: a hop count or the proxies' CIDRs), so entries a client
 * writes into X-Forwarded-For itself are never taken for its address.
 */
export function clientOf(req: Request): string {
  return clientKey(req.ip ?? req.socket.remoteAddress ?? "unknown");
}
