import assert from 'node:assert/strict';
import { it } from 'node:test';
import { connectClient, PROTOCOLS } from '../helpers/protocol-clients.ts';
import { startTestServer } from '../helpers/server.ts';

it('probe', async () => {
  const signals = new Map<string, AbortSignal>();
  const nodeEvents = new Map<string, string[]>();
  const fetchServer = await startTestServer({ app: { fetch(request: Request) {
    const url = new URL(request.url);
    if (url.pathname === '/complete') { signals.set(url.search, request.signal); return new Response('done'); }
    if (url.pathname === '/post-complete') { signals.set(url.search, request.signal); return (async () => { await request.text(); return new Response('read'); })(); }
    if (url.pathname === '/check') return Response.json({ aborted: signals.get(url.search)?.aborted });
    return new Response('?');
  } } });
  const nodeServer = await startTestServer({ app: (req: any, res: any) => {
    const events: string[] = [];
    nodeEvents.set(req.url, events);
    req.on('close', () => events.push(`req close`));
    req.on('aborted', () => events.push(`req aborted`));
    res.on('finish', () => events.push('res finish'));
    res.on('close', () => events.push(`res close finished=${res.writableFinished}`));
    if (req.url.startsWith('/flush')) { res.writeHead(200, {'x-early': '1'}); res.flushHeaders(); setTimeout(() => res.end('late ✓ é'), 30); return; }
    if (req.url.startsWith('/early')) { res.end('early'); return; } // does not read the upload
    res.end('ok');
  } });
  for (const protocol of PROTOCOLS) {
    for (const [name, server] of [['fetch', fetchServer], ['node', nodeServer]] as const) {
      const client = await connectClient(protocol, { host: '127.0.0.1', port: server.port });
      const r = await client.request({ path: `/complete?${protocol}` });
      const p = await client.request({ method: 'POST', path: `/post-complete?${protocol}`, body: Buffer.alloc(100000) });
      const f = await client.request({ path: `/flush?${protocol}` });
      const e = await client.request({ method: 'POST', path: `/early?${protocol}`, body: Buffer.alloc(3 << 20) });
      const e2 = await client.request({ path: `/complete2?${protocol}` });
      await new Promise((r) => setTimeout(r, 50));
      const c1 = await client.request({ path: `/check?${protocol}` });
      await client.close();
      await new Promise((r) => setTimeout(r, 50));
      const c2 = name === 'fetch' ? (await (async () => { const c = await connectClient(protocol, { host: '127.0.0.1', port: server.port }); const x = await c.request({ path: `/check?${protocol}` }); await c.close(); return x; })()).body.toString() : '';
      console.log(protocol, name, r.status, r.body.toString(), p.body.toString(), f.status, JSON.stringify(f.headers), f.body.toString(), e.status, e.body.toString(), e2.status, c1.body.toString(), c2,
        name === 'node' ? JSON.stringify([...nodeEvents].filter(([k]) => k.includes(protocol))) : '');
    }
  }
  await fetchServer.close(); await nodeServer.close();
});
