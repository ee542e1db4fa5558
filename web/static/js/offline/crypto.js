// WebCrypto side of docs/offline.md: the device key kept as a non-extractable HKDF key, per-file AES-GCM keys
// derived from it, the container read segment by segment, and licences checked with Ed25519.

const enc = new TextEncoder();
export const HEADER_LEN = 48;
const TAG = 16;

export function b64d(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** The device key (raw bytes from the registration) as a non-extractable key that can only derive others. */
export function importDeviceKey(raw) {
  return crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
}

/** The Ed25519 public key that signs licences. */
export function importLicenceKey(raw) {
  return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
}

/** The container's header fields (docs/offline.md, "The container"). */
export function parseHeader(bytes) {
  if (bytes.length < HEADER_LEN) throw new Error("truncated container");
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LEN);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== "MDOC" || bytes[4] !== 1 || bytes[5] || bytes[6] || bytes[7]) throw new Error("not an offline container");
  const segment = v.getUint32(8);
  const size = Number(v.getBigUint64(12));
  const n = Math.max(1, Math.ceil(size / segment));
  return {
    segment, size, keyVersion: v.getUint32(20), salt: bytes.slice(24, 40), prefix: bytes.slice(40, 48), n,
    header: bytes.slice(0, HEADER_LEN), total: HEADER_LEN + size + n * TAG,
  };
}

/** The AES-256-GCM key of one file (non-extractable too). */
export function fileKey(deviceKey, salt) {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: enc.encode("musicd offline file key v1") },
    deviceKey, { name: "AES-GCM", length: 256 }, false, ["decrypt"],
  );
}

/** Where segment `i` starts in the container and how long it is sealed. */
export function segmentSpan(h, i) {
  const start = HEADER_LEN + i * (h.segment + TAG);
  const plain = Math.min(h.segment, h.size - i * h.segment);
  return [start, Math.max(plain, 0) + TAG];
}

/** Decrypt segment `i` of a container whose bytes are `data` (a failed tag throws). */
export async function openSegment(key, h, data, i) {
  const [start, len] = segmentSpan(h, i);
  if (start + len > data.length) throw new Error("truncated container");
  const iv = new Uint8Array(12);
  iv.set(h.prefix, 0);
  new DataView(iv.buffer).setUint32(8, i);
  const aad = new Uint8Array(HEADER_LEN + 5);
  aad.set(h.header, 0);
  new DataView(aad.buffer).setUint32(HEADER_LEN, i);
  aad[HEADER_LEN + 4] = i === h.n - 1 ? 1 : 0;
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 128 },
    key, data.subarray(start, start + len)));
}

/** The whole plaintext of a container, as the parts of a Blob (every segment authenticated). */
export async function decryptAll(deviceKey, data) {
  const h = parseHeader(data);
  if (data.length !== h.total) throw new Error("truncated container");
  const key = await fileKey(deviceKey, h.salt);
  const parts = [];
  for (let i = 0; i < h.n; i++) parts.push(await openSegment(key, h, data, i));
  return parts;
}

/** A licence's payload if its signature verifies, it is for this device and not older than `minSeq`. */
export async function verifyLicence(publicKey, licence, deviceId, minSeq = 0) {
  const body = b64d(licence.payload);
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, b64d(licence.signature), body);
  if (!ok) throw Object.assign(new Error("the licence's signature does not verify"), { code: "licence_forged" });
  const p = JSON.parse(new TextDecoder().decode(body));
  if (p.v !== 1 || p.device_id !== deviceId) {
    throw Object.assign(new Error("the licence is for another device"), { code: "licence_other_device" });
  }
  if (p.seq < minSeq) throw Object.assign(new Error("the licence was replayed"), { code: "licence_replayed" });
  return p;
}
