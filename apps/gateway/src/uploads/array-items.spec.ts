import { describe, expect, it } from '@jest/globals';

import { csvFields, ItemsReader, ItemsRejected } from './array-items.js';

const read = (format: 'lines' | 'csv' | 'jsonl', chunks: string[], maxLength = 16) => {
  const reader = new ItemsReader(format, { maxLength, maxCount: 100 });
  let out = '';
  for (const chunk of chunks) out += reader.write(Buffer.from(chunk));
  out += reader.end();
  return { out, reader };
};

describe('array items', () => {
  it('counts CSV fields, quoted or not', () => {
    expect(csvFields('a')).toBe(1);
    expect(csvFields('a,b,')).toBe(3);
    expect(csvFields('"a,b",c')).toBe(2);
    expect(csvFields('"say ""hi""",x')).toBe(2);
    expect(csvFields('"open')).toMatch(/not closed/);
    expect(csvFields('"a"b')).toMatch(/followed by "b"/);
    expect(csvFields('a"b')).toMatch(/quote inside/);
  });

  it('splits rows across chunks, including a UTF-8 character cut in two', () => {
    const euro = Buffer.from('€');
    const reader = new ItemsReader('lines', { maxLength: 16, maxCount: 10 });
    let out = reader.write(Buffer.from('ab\ncd'));
    out += reader.write(Buffer.concat([Buffer.from('e\n'), euro.subarray(0, 1)]));
    out += reader.write(euro.subarray(1));
    out += reader.end();
    expect(out).toBe('ab\ncde\n€\n');
    expect(reader.count).toBe(3);
  });

  it('takes the CSV header out', () => {
    const { out, reader } = read('csv', ['x,y\r\n1,2\r\n', '3,4']);
    expect(out).toBe('1,2\n3,4\n');
    expect(reader.columns).toBe('x,y');
    expect(reader.count).toBe(2);
  });

  it('refuses a row too long before it has all of it', () => {
    const reader = new ItemsReader('lines', { maxLength: 4, maxCount: 10 });
    expect(() => reader.write(Buffer.from('abcdefgh'))).toThrow(ItemsRejected);
    expect(() => read('lines', ['ok\n', 'toolong\n'], 4)).toThrow(/line 2: longer than 4/);
  });
});
