import { describe, expect, it } from '@jest/globals';

import { attachmentDisposition } from './content-disposition.js';

describe('attachmentDisposition', () => {
  it.each([
    ['tripinfo.xml', `attachment; filename="tripinfo.xml"; filename*=UTF-8''tripinfo.xml`],
    [
      'résumé ✓.txt',
      `attachment; filename="r_sum_ _.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt`,
    ],
    ['a"b\\c\r\n.txt', `attachment; filename="a_b_c__.txt"; filename*=UTF-8''a%22b%5Cc%0D%0A.txt`],
    [
      "it's (1)*.log",
      `attachment; filename="it's (1)*.log"; filename*=UTF-8''it%27s%20%281%29%2A.log`,
    ],
  ])('gives %j an ASCII fallback and the exact UTF-8 name', (name, header) => {
    expect(attachmentDisposition(name)).toBe(header);
  });

  it('is always a valid header value', () => {
    // Node refuses header values past Latin-1; that refusal was a 500 on download.
    for (const name of ['日本語.csv', 'emoji-😀.bin', 'ÿ\u0100.txt'])
      expect(
        () => new Headers({ 'content-disposition': attachmentDisposition(name) }),
      ).not.toThrow();
  });
});
