import { clip, inert, lookalike, visibleOnly } from '../../lib/notify/inert';
import { INVISIBLE_MARKS } from './support/messages';

describe('inert', () => {
  it.each([
    ['https://evil.example/x', 'https[:]//evil.example/x', 'no auto-link'],
    [
      '_it_https://evil.example/x',
      '_it_https[:]//evil.example/x',
      'no auto-link after a word character either',
    ],
    ['see www.evil.example', 'see www[.]evil.example', 'no www. auto-link'],
    ['C://Users/x', 'C[:]//Users/x', 'nor after a one-letter scheme'],
    ['_www.evil.example', '_www[.]evil.example', 'nor once a channel escapes the `_` before www.'],
    ['<!channel> <at id=all>', '‹!channel› ‹at id=all›', 'no markup tag survives'],
    ['@everyone', '@\u200beveryone', 'no mention word'],
    ['a\nb\r\nc\td', 'a b c d', 'one line'],
    ['\u001b[31mred\u001b[0m', 'red', 'ANSI escapes removed'],
    ['abc\u202edef', 'abc def', 'bidi override removed'],
    ...INVISIBLE_MARKS.map(([name, c]): [string, string, string] => [
      `web${c}-03`,
      'web -03',
      `${name} becomes a space`,
    ]),
  ])('%j -> %j (%s)', (input, expected) => {
    expect(inert(input)).toBe(expected);
  });
});

describe('clip', () => {
  it.each<[string, number, 'chars' | 'bytes' | undefined, string, string]>([
    ['abcdef', 6, undefined, 'abcdef', 'fits'],
    ['abcdef', 4, undefined, 'abc…', 'cut with an ellipsis'],
    ['a&amp;b', 4, undefined, 'a…', 'never inside an entity'],
    ['ab\\*c', 4, undefined, 'ab…', 'never leaves a lone backslash'],
    ['a😀b', 3, undefined, 'a…', 'never splits a surrogate pair'],
    ['备份恢复', 7, 'bytes', '备…', 'bytes: 3 for each CJK character, 3 for the ellipsis'],
  ])('%j to %d %s -> %j (%s)', (text, max, unit, expected) => {
    expect(clip(text, max, unit)).toBe(expected);
  });
});

describe('lookalike', () => {
  it('replaces markup characters but keeps underscores inside names', () => {
    expect(lookalike('autobk_web-03 _it_ *b* [x] <y>', '[]<>*_')).toBe('autobk_web-03 ˍitˍ ∗b∗ ［x］ ‹y›');
  });
});

describe('visibleOnly', () => {
  it('turns every invisible or direction-changing character into a space and keeps the rest, even in JSON', () => {
    // Prepare
    const text = INVISIBLE_MARKS.map(([, c]) => c).join('x');
    const json = JSON.stringify({ host: `web${text}`, error: 'a\nb <!channel>' });
    // Act
    const visible = visibleOnly(json);
    // Assess
    expect(JSON.parse(visible)).toEqual({
      host: `web${INVISIBLE_MARKS.map(() => ' ').join('x')}`,
      error: 'a\nb <!channel>',
    });
  });
});
