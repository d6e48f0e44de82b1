// The one way out of a container capability's network: an HTTP proxy capsule runs on
// the host for one call. Plain HTTP is forwarded (absolute-form requests) and HTTPS
// goes through `CONNECT host:port`; each target is checked with refusedUrl, the
// check the wasm tiers make (granted hosts, the policy's blocked ones), so a
// container gets exactly what a wasm guest would. Everything else is 403. A per-call
// secret (Proxy-Authorization) keeps other containers on the same network out; the
// relayed bytes, the connections to the proxy and the requests and tunnels it opens
// (limits.connections, as a wasm guest's requests) are bounded; close() ends every
// socket when the call ends.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { type NetRules, refusedUrl } from '../../grants/net.js';
import type { DeniedAccess } from '../../sandbox/job.js';
import { HOP_BY_HOP } from '../../sandbox/net/hop.js';

/** Connections one call may open to the proxy, and requests and tunnels it may have opened, without limits.connections. */
export const EGRESS_MAX_CONNECTIONS = 64;
/** Bytes one call may relay, both directions, headers of the proxy's own replies not counted. */
export const EGRESS_MAX_BYTES = 64 * 1024 * 1024;

export interface EgressProxyOptions {
  /** The call's granted and blocked host patterns (Grants.net, Grants.netBlocked). */
  rules: NetRules;
  /** Where to listen; default 127.0.0.1. */
  listenHost?: string;
  /**
   * Accept only connections that arrived at this local address (the network's gateway).
   * A container network's bridge may not exist before its first container starts, so the
   * proxy listens on all addresses and drops what did not come in through the bridge.
   */
  acceptOn?: string;
  maxConnections?: number;
  maxBytes?: number;
}

export interface EgressProxy {
  port: number;
  /** `http://capsule:SECRET@HOST:PORT`: what the container's HTTP(S)_PROXY holds. */
  url(host: string): string;
  /** Targets refused and limits hit, for the call's denials. */
  readonly denials: DeniedAccess[];
  /** Bytes relayed so far (both directions). */
  readonly bytes: number;
  close(): Promise<void>;
}

const USER = 'capsule';
/** Not forwarded either way: the hop-by-hop headers, and the proxy's own credentials and challenge. */
const NOT_FORWARDED = [...HOP_BY_HOP, 'proxy-authorization', 'proxy-authenticate'];

function sameAddress(a: string | undefined, b: string): boolean {
  return a === b || a === `::ffff:${b}`;
}

/** `[::1]` → `::1`: what net.connect takes. */
function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

export async function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const secret = randomBytes(24).toString('hex');
  const expected = Buffer.from(`Basic ${Buffer.from(`${USER}:${secret}`).toString('base64')}`);
  const maxConnections = o.maxConnections ?? EGRESS_MAX_CONNECTIONS;
  const maxBytes = o.maxBytes ?? EGRESS_MAX_BYTES;
  const denials: DeniedAccess[] = [];
  const sockets = new Set<Duplex>();
  let connections = 0;
  /** Requests forwarded and tunnels opened: each is one of the call's connections. */
  let opened = 0;
  let bytes = 0;
  let closed = false;

  const deny = (target: string, reason: string) => {
    if (denials.length < 100) denials.push({ kind: 'net', target: target.slice(0, 512), reason });
  };
  const track = (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    if (closed) s.destroy();
  };
  /** Count a relayed chunk; past the budget every socket of the call is cut. */
  const count = (n: number): boolean => {
    bytes += n;
    if (bytes <= maxBytes) return true;
    if (bytes - n <= maxBytes) deny('(all)', `relayed more than ${maxBytes} bytes`);
    for (const s of sockets) s.destroy();
    return false;
  };
  const authorized = (req: http.IncomingMessage): boolean => {
    const got = Buffer.from(req.headers['proxy-authorization'] ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  const spent = () => bytes > maxBytes;
  /** Counts one request or tunnel; false (and a denial) past the call's connections. */
  const open = (target: string): boolean => {
    opened += 1;
    if (opened <= maxConnections) return true;
    deny(target, `limit of ${maxConnections} connections (limits.connections) reached`);
    return false;
  };

  const server = http.createServer();
  server.on('connection', (socket: net.Socket) => {
    if (o.acceptOn !== undefined && !sameAddress(socket.localAddress, o.acceptOn)) {
      socket.destroy();
      return;
    }
    connections += 1;
    if (connections > maxConnections) {
      if (connections === maxConnections + 1) deny('(all)', `more than ${maxConnections} connections`);
      socket.destroy();
      return;
    }
    track(socket);
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const refuse = (status: number, text: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close', ...extra });
      res.end(`capsule egress proxy: ${text}\n`);
    };
    if (!authorized(req)) return refuse(407, 'proxy authorization required', { 'proxy-authenticate': `Basic realm="capsule"` });
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return refuse(400, 'a proxy request needs an absolute http:// URL');
    }
    if (url.protocol !== 'http:') return refuse(400, `${url.protocol} is not forwarded; use CONNECT for https`);
    const refused = refusedUrl(o.rules, url);
    if (refused) {
      deny(url.href, refused);
      return refuse(403, `${url.origin}: ${refused}`);
    }
    if (spent()) return refuse(403, 'the call relayed its byte budget');
    if (!open(url.href)) return refuse(403, 'the call used its connections (limits.connections)');
    const headers = { ...req.headers };
    for (const h of NOT_FORWARDED) delete headers[h];
    // The host checked is the host named: a forged Host header would reach another site on that server.
    headers.host = url.host;
    const upstream = http.request({
      host: bareHost(url.hostname),
      port: url.port === '' ? 80 : Number(url.port),
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false,
    });
    upstream.on('socket', track);
    upstream.on('error', (e) => {
      if (!res.headersSent) refuse(502, `${url.origin}: ${e.message}`);
      else res.destroy();
    });
    upstream.on('response', (up) => {
      const out = { ...up.headers };
      for (const h of NOT_FORWARDED) delete out[h];
      res.writeHead(up.statusCode ?? 502, out);
      up.on('data', (chunk: Buffer) => {
        if (count(chunk.length)) res.write(chunk);
      });
      up.on('end', () => res.end());
      up.on('error', () => res.destroy());
    });
    req.on('data', (chunk: Buffer) => {
      if (count(chunk.length)) upstream.write(chunk);
    });
    req.on('end', () => upstream.end());
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const refuse = (status: string) => client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    if (!authorized(req)) return client.end(`HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="capsule"\r\n\r\n`);
    let url: URL;
    try {
      url = new URL(`https://${req.url ?? ''}/`);
    } catch {
      return refuse('400 Bad Request');
    }
    // CONNECT carries TLS: it is checked as the https URL of that host and port.
    if (url.port === '' && !/:443$/.test(req.url ?? '')) return refuse('400 Bad Request');
    const refused = refusedUrl(o.rules, url);
    if (refused) {
      deny(`${url.hostname}:${url.port || 443}`, `${refused} (CONNECT)`);
      return refuse('403 Forbidden');
    }
    if (spent()) return refuse('403 Forbidden');
    if (!open(`${url.hostname}:${url.port || 443}`)) return refuse('403 Forbidden');
    const upstream = net.connect(url.port === '' ? 443 : Number(url.port), bareHost(url.hostname));
    track(upstream);
    upstream.on('error', () => (client.writable ? refuse('502 Bad Gateway') : client.destroy()));
    client.on('error', () => upstream.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0 && count(head.length)) upstream.write(head);
      relay(client, upstream);
      relay(upstream, client);
    });
  });

  /** Pipe with counting; either side ending ends the other. */
  const relay = (from: Duplex, to: Duplex) => {
    from.on('data', (chunk: Buffer) => {
      if (count(chunk.length) && !to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('close', () => to.destroy());
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, o.listenHost ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: (host: string) => `http://${USER}:${secret}@${host}:${port}`,
    denials,
    get bytes() {
      return bytes;
    },
    close: async () => {
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
