/* webmk.manifest {
  "name": "upper",
  "version": "1.0.0",
  "description": "Upper-cases its arguments, or stdin line by line (a JS module)"
} */
// A webmk JS module: an ES module whose default export gets the kernel's handle.
export default async function main(webmk) {
  const words = webmk.args.slice(1);
  if (words.length > 0) {
    await webmk.print(`${words.join(' ').toUpperCase()}\n`);
    return 0;
  }
  let count = 0;
  for await (const line of webmk.lines()) {
    await webmk.print(`${line.toUpperCase()}\n`);
    count += 1;
  }
  await webmk.eprint(`upper: ${count} lines\n`);
  return 0;
}
