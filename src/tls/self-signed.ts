// A throwaway certificate for localhost, so `--https2 addr=:8443` works without cert= and key=.
// Built in-process: node:crypto makes the P-256 key and the ECDSA signature, der.ts the few DER
// encodings an X.509 v3 certificate (RFC 5280 §4.1) needs. No openssl binary, no dependency.

import { generateKeyPair, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { promisify } from 'node:util';
import {
  bitString, certificateTime, explicit, implicit, objectIdentifier, octetString, sequence, set, smallInteger, unsignedInteger, utf8String,
} from './der.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const VALID_DAYS = 365;
/** Started an hour back, so a client whose clock is a little behind still accepts it. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const SERIAL_BYTES = 16;
const HOST = 'localhost';
const IP_ADDRESSES = ['127.0.0.1', '::1'] as const;

const OID = {
  ECDSA_WITH_SHA256: '1.2.840.10045.4.3.2',
  COMMON_NAME: '2.5.4.3',
  SUBJECT_ALT_NAME: '2.5.29.17',
} as const;

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** A P-256 self-signed certificate for CN=localhost, SAN localhost, 127.0.0.1 and ::1. */
export async function generateSelfSignedCertificate(): Promise<PemPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  return pemPair(publicKey, privateKey);
}

let made: PemPair | undefined;

/**
 * The same, made at once and kept for the process: createServer() returns a server
 * synchronously, as http.createServer does, and a test run may make thousands.
 */
export function selfSignedCertificateSync(): PemPair {
  if (made !== undefined) return made;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return (made = pemPair(publicKey, privateKey));
}

function pemPair(publicKey: KeyObject, privateKey: KeyObject): PemPair {
  const der = certificateDer(publicKey, privateKey, new Date());
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function certificateDer(publicKey: KeyObject, privateKey: KeyObject, now: Date): Buffer {
  const signatureAlgorithm = sequence(objectIdentifier(OID.ECDSA_WITH_SHA256));
  const name = sequence(set(sequence(objectIdentifier(OID.COMMON_NAME), utf8String(HOST))));
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + VALID_DAYS * DAY_MS);
  const serial = randomBytes(SERIAL_BYTES);
  // Positive, at most 20 octets (RFC 5280 §4.1.2.2); the second bit set so DER's minimal form never drops
  // a leading zero octet and every serial is the same length.
  serial[0] = (serial[0] & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    signatureAlgorithm,
    name, // issuer: self-signed
    sequence(certificateTime(notBefore), certificateTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(subjectAltName())),
  );
  // ECDSA signatures come from node:crypto as DER Ecdsa-Sig-Value, as X.509 wants them.
  const signature = sign('sha256', tbs, privateKey);
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}

/** subjectAltName: dNSName [2] localhost, iPAddress [7] 127.0.0.1 and ::1 (RFC 5280 §4.2.1.6). */
function subjectAltName(): Buffer {
  const names = [implicit(2, Buffer.from(HOST, 'ascii')), ...IP_ADDRESSES.map((ip) => implicit(7, ipBytes(ip)))];
  return sequence(objectIdentifier(OID.SUBJECT_ALT_NAME), octetString(sequence(...names)));
}

/** 4 bytes for IPv4, 16 for IPv6 (only the forms IP_ADDRESSES uses: dotted quads and `::1`). */
function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const before = groups(head);
  const after = groups(tail ?? '');
  const all = [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}
