/* webmk.manifest {
  "name": "jslogger",
  "version": "1.0.0",
  "description": "Prints every bus message on a topic pattern (a JS module)",
  "permissions": { "subscribe": ["*"] }
} */
// Usage: jslogger [PATTERN] [COUNT]: prints "TOPIC: TEXT" per message; stops after COUNT if given.
export default async function main(webmk) {
  const pattern = webmk.args[1] ?? '*';
  const count = webmk.args[2] === undefined ? Infinity : Number(webmk.args[2]);
  const sub = await webmk.bus.subscribe(pattern);
  await webmk.print(`listening on ${pattern}\n`);
  let seen = 0;
  for await (const m of sub) {
    await webmk.print(`${m.topic}: ${m.text()}\n`);
    if (++seen >= count) break;
  }
  await sub.close();
  return 0;
}
