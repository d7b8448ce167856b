/**
 * Native hashers (the BLAKE3 binding, the addon's sha256) take strings or Buffers: a string as
 * it is, a Buffer as it is, any other byte array wrapped as a Buffer without copying.
 */
export function asStringOrBuffer(data: string | Uint8Array): string | Buffer {
  return typeof data === "string" || Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
