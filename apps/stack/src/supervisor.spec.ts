import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';

import { onLines } from './supervisor.js';

describe('onLines', () => {
  it('splits chunks into lines across chunk boundaries, CRLF and multi-byte characters', async () => {
    const source = new PassThrough();
    const lines: string[] = [];
    onLines(source, (line) => lines.push(line));
    const ended = new Promise((resolve) => source.on('end', resolve));
    const euro = Buffer.from('€');
    source.write('one\ntw');
    source.write('o\r\nthree ');
    source.write(euro.subarray(0, 1));
    source.write(Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')]));
    source.end();
    await ended;
    expect(lines).toEqual(['one', 'two', 'three €', '', 'last']);
  });
});
