// The protocol-neutral request-head checks (docs/request-heads.md §2), each verdict with its code.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkAuthority,
  checkFieldName,
  checkFieldValue,
  checkMethod,
  checkRequestHead,
  checkTarget,
  forbiddenValueByte,
} from '../../src/exchange/request-validation.ts';
import type { RequestHead } from '../../src/exchange/exchange.ts';

const codeOf = (verdict: { code: string } | undefined): string | undefined => verdict?.code;

describe('request-head checks', () => {
  it('takes a token as a method and refuses anything else', () => {
    for (const method of ['GET', 'get', 'M-SEARCH', "X!#$%&'*+-.^_`|~"]) assert.equal(checkMethod(method), undefined, method);
    for (const method of ['', 'G T', 'G(T', 'GET/', 'G\u00e9T', 'G\0']) assert.equal(codeOf(checkMethod(method)), 'SPRY_ERR_BAD_METHOD', method);
  });

  it('takes an origin-form target, and * with OPTIONS only', () => {
    for (const target of ['/', '/a/b?c=d&e', '/a"{|}^`\\[]', '/%20']) assert.equal(checkTarget('GET', target), undefined, target);
    assert.equal(checkTarget('OPTIONS', '*'), undefined);
    for (const target of ['', 'x', '*', 'http://x/', 'x:443', '/a b', '/a#b', '/\x7f', '/\x80', '/\xff', '/\t']) {
      assert.equal(codeOf(checkTarget('GET', target)), 'SPRY_ERR_BAD_TARGET', JSON.stringify(target));
    }
  });

  it('takes a host with an optional port: reg-name, IPv4 or bracketed IPv6', () => {
    for (const authority of ['', 'localhost', 'a.example:8443', '127.0.0.1:1', '[::1]', '[2001:db8::1]:443', 'a_b-c~d%41', "x!$&'()*+,;="]) {
      assert.equal(checkAuthority(authority), undefined, authority);
    }
    for (const authority of ['a b', 'a/b', 'u@a', 'a:', 'a:x', 'a:123456', '[::1', '[::1]x', '[zz]', 'a:1:2', 'é.example', 'a\r']) {
      assert.equal(codeOf(checkAuthority(authority)), 'SPRY_ERR_BAD_AUTHORITY', JSON.stringify(authority));
    }
  });

  it('takes token names, lower case only where the protocol says, a leading colon only for pseudo-headers', () => {
    assert.equal(checkFieldName('X-Custom', { lowerCase: false, pseudo: false }), undefined);
    assert.equal(codeOf(checkFieldName('X-Custom', { lowerCase: true, pseudo: false })), 'SPRY_ERR_BAD_HEADER_NAME');
    assert.equal(checkFieldName(':path', { lowerCase: true, pseudo: true }), undefined);
    for (const name of [':path', ':', 'a:b', '', 'a b', 'a(b']) assert.equal(codeOf(checkFieldName(name, { lowerCase: true, pseudo: false })), 'SPRY_ERR_BAD_HEADER_NAME', name);
    assert.equal(codeOf(checkFieldName(':', { lowerCase: true, pseudo: true })), 'SPRY_ERR_BAD_HEADER_NAME');
  });

  it('refuses CR, LF and NUL in values, and finds the first of them in raw bytes', () => {
    assert.equal(checkFieldValue('x', 'a\tb \x7f\xff'), undefined);
    for (const value of ['a\rb', 'a\nb', 'a\0b']) assert.equal(codeOf(checkFieldValue('x', value)), 'SPRY_ERR_BAD_HEADER_VALUE');
    const bytes = Buffer.from('ab\ncd\0', 'latin1');
    assert.equal(forbiddenValueByte(bytes, 0, 2), -1);
    assert.equal(forbiddenValueByte(bytes, 0, bytes.length), 2);
    assert.equal(forbiddenValueByte(bytes, 3, bytes.length), 5);
  });

  it('checks a whole head: the request line, then every header', () => {
    const head = (patch: Partial<RequestHead>): RequestHead =>
      ({ method: 'GET', target: '/', authority: 'localhost', headers: ['accept', '*/*'], ...patch }) as RequestHead;
    assert.equal(checkRequestHead(head({})), undefined);
    assert.equal(codeOf(checkRequestHead(head({ target: 'x' }))), 'SPRY_ERR_BAD_TARGET');
    assert.equal(codeOf(checkRequestHead(head({ headers: ['a(b', 'v'] }))), 'SPRY_ERR_BAD_HEADER_NAME');
    assert.equal(codeOf(checkRequestHead(head({ headers: ['a', 'v\r\n'] }))), 'SPRY_ERR_BAD_HEADER_VALUE');
  });
});
