// Just enough of the Kubernetes protobuf encoding to accept the bodies `kubectl create
// namespace|configmap|secret` sends (client-go's typed clients speak protobuf for core types).
// Other kinds are refused with 415, and clients that can send JSON should.
import { ApiError } from './status.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      yield { no, wire, value: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const str = (v: bigint | Buffer) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

function mapEntry(buf: Buffer, bytesValue: boolean): [string, string] {
  let k = '';
  let v = '';
  for (const f of fields(buf)) {
    if (f.no === 1) k = str(f.value);
    if (f.no === 2)
      v = bytesValue && Buffer.isBuffer(f.value) ? f.value.toString('base64') : str(f.value);
  }
  return [k, v];
}

function objectMeta(buf: Buffer): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  for (const f of fields(buf)) {
    if (!Buffer.isBuffer(f.value)) continue;
    if (f.no === 1) meta.name = str(f.value);
    else if (f.no === 2) meta.generateName = str(f.value);
    else if (f.no === 3) meta.namespace = str(f.value);
    else if (f.no === 11) labels[mapEntry(f.value, false)[0]] = mapEntry(f.value, false)[1];
    else if (f.no === 12) annotations[mapEntry(f.value, false)[0]] = mapEntry(f.value, false)[1];
    else if (f.no === 14) finalizers.push(str(f.value));
  }
  if (Object.keys(labels).length) meta.labels = labels;
  if (Object.keys(annotations).length) meta.annotations = annotations;
  if (finalizers.length) meta.finalizers = finalizers;
  return meta;
}

function decodeKind(kind: string, raw: Buffer): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const data: Record<string, string> = {};
  const stringData: Record<string, string> = {};
  for (const f of fields(raw)) {
    if (f.no === 1 && Buffer.isBuffer(f.value)) obj.metadata = objectMeta(f.value);
    else if (kind === 'ConfigMap' && f.no === 2 && Buffer.isBuffer(f.value))
      data[mapEntry(f.value, false)[0]] = mapEntry(f.value, false)[1];
    else if (kind === 'ConfigMap' && f.no === 4) obj.immutable = f.value === 1n;
    else if (kind === 'Secret' && f.no === 2 && Buffer.isBuffer(f.value))
      data[mapEntry(f.value, true)[0]] = mapEntry(f.value, true)[1];
    else if (kind === 'Secret' && f.no === 3) obj.type = str(f.value);
    else if (kind === 'Secret' && f.no === 4 && Buffer.isBuffer(f.value))
      stringData[mapEntry(f.value, false)[0]] = mapEntry(f.value, false)[1];
    else if (kind === 'Secret' && f.no === 5) obj.immutable = f.value === 1n;
  }
  if (Object.keys(data).length) obj.data = data;
  if (Object.keys(stringData).length) obj.stringData = stringData;
  return obj;
}

const SUPPORTED = new Set(['Namespace', 'ConfigMap', 'Secret']);

export function decodeProtobuf(body: Buffer): unknown {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw new ApiError(400, 'BadRequest', 'protobuf body without the k8s envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  try {
    for (const f of fields(body.subarray(4))) {
      if (f.no === 1 && Buffer.isBuffer(f.value)) {
        for (const t of fields(f.value)) {
          if (t.no === 1) apiVersion = str(t.value);
          if (t.no === 2) kind = str(t.value);
        }
      } else if (f.no === 2 && Buffer.isBuffer(f.value)) raw = f.value;
    }
    if (!SUPPORTED.has(kind)) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the simulator decodes protobuf only for ${[...SUPPORTED].join(', ')} (got ${kind || 'unknown'}); send JSON (e.g. kubectl apply -f)`,
      );
    }
    return { apiVersion, kind, ...decodeKind(kind, raw) };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(
      400,
      'BadRequest',
      `could not decode the protobuf body: ${(err as Error).message}`,
    );
  }
}
