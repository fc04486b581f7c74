import yazl from 'yazl';

/** A real zip, written by yazl, of `files` (path → text). */
export async function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(files))
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), path);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * yazl refuses unsafe names, as a zip writer should; a hostile client does not. Writes the entry
 * under a harmless placeholder of the same length, then swaps the name bytes in the local and
 * central headers.
 */
export async function zipWithEntryName(
  unsafe: string,
  files: Record<string, string> = {},
): Promise<Buffer> {
  const placeholder = 'Q'.repeat(unsafe.length);
  const zip = await zipOf({ ...files, [placeholder]: 'payload' });
  return Buffer.from(zip.toString('latin1').split(placeholder).join(unsafe), 'latin1');
}

/** A small SUMO scenario: network, routes and the config that ties them. */
export const SUMO_SCENARIO: Record<string, string> = {
  'scenario/grid.net.xml': [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<net version="1.20" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '  <location netOffset="0.00,0.00" convBoundary="0.00,0.00,200.00,0.00" origBoundary="0.00,0.00,200.00,0.00" projParameter="!"/>',
    '  <edge id="e1" from="n1" to="n2" priority="1">',
    '    <lane id="e1_0" index="0" speed="13.89" length="200.00" shape="0.00,-1.60 200.00,-1.60"/>',
    '  </edge>',
    '  <junction id="n1" type="dead_end" x="0.00" y="0.00" incLanes="" intLanes="" shape="0.00,0.00 0.00,-3.20"/>',
    '  <junction id="n2" type="dead_end" x="200.00" y="0.00" incLanes="e1_0" intLanes="" shape="200.00,-3.20 200.00,0.00"/>',
    '</net>',
  ].join('\n'),
  'scenario/grid.rou.xml': [
    '<routes>',
    '  <vType id="car" accel="2.6" decel="4.5" length="5" maxSpeed="13.89"/>',
    '  <flow id="f1" type="car" begin="0" end="60" number="10" from="e1" to="e1"/>',
    '</routes>',
  ].join('\n'),
  'scenario/grid.sumocfg': [
    '<configuration>',
    '  <input><net-file value="grid.net.xml"/><route-files value="grid.rou.xml"/></input>',
    '  <time><begin value="0"/><end value="120"/></time>',
    '  <output><tripinfo-output value="tripinfo.xml"/></output>',
    '</configuration>',
  ].join('\n'),
};
