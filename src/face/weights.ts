// Zeroes the vanishingly small float32 weights of an ONNX model, in place, before the session is built.
//
// fr_feature ships 191 k weights with |w| < 1e-15 (16 % of them; 8.9 k are subnormal, below 2^-126) and fr_landmark
// 27 k. Products with them underflow to subnormal numbers, and on x86 every arithmetic operation on a subnormal
// operand takes a microcode assist: fr_feature ran 54 ms instead of 7–8 ms on this project's machine.
// onnxruntime's set_denormal_as_zero does not help here: it reaches its own pool threads and, once per process, the
// thread that creates the first session, not every worker thread that runs a single-threaded session. A weight
// below 1e-15 moves no float32 output: with it zeroed, all six models gave bit-identical outputs on the test photos
// (measurements in src/face/README.md), so this is the same model, evaluated at full speed.

/** Weights with a magnitude below this become 0. */
export const TINY_WEIGHT = 1e-15;

/** Reads a protobuf varint at `pos`; returns the value and the next position. */
function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new RangeError('truncated ONNX model');
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

interface Field {
  field: number;
  /** Varint fields: the value; length-delimited fields: where the payload starts and ends. */
  value: number;
  start: number;
  end: number;
}

/** The fields of the protobuf message in buf[start, end). */
function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, next] = varint(buf, pos);
    const field = Math.floor(key / 8);
    switch (key % 8) {
      case 0: {
        const [value, after] = varint(buf, next);
        yield { field, value, start: next, end: after };
        pos = after;
        break;
      }
      case 1:
        pos = next + 8;
        break;
      case 5:
        pos = next + 4;
        break;
      case 2: {
        const [len, body] = varint(buf, next);
        if (body + len > end) throw new RangeError('truncated ONNX model');
        yield { field, value: len, start: body, end: body + len };
        pos = body + len;
        break;
      }
      default:
        throw new RangeError(`unsupported protobuf wire type ${key % 8} in an ONNX model`);
    }
  }
}

// onnx.proto: ModelProto.graph = 7; GraphProto.initializer = 5; TensorProto.data_type = 2 (FLOAT = 1),
// float_data = 4 (packed), raw_data = 9 (little-endian).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT = 1;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_RAW_DATA = 9;

/** Sets every float32 initializer value with 0 < |w| < `below` to 0; returns how many were changed. */
export function flushTinyWeights(model: Uint8Array, below = TINY_WEIGHT): number {
  const view = new DataView(model.buffer, model.byteOffset, model.byteLength);
  let flushed = 0;
  for (const graph of fields(model, 0, model.length)) {
    if (graph.field !== MODEL_GRAPH) continue;
    for (const init of fields(model, graph.start, graph.end)) {
      if (init.field !== GRAPH_INITIALIZER) continue;
      const parts = [...fields(model, init.start, init.end)];
      if (!parts.some((p) => p.field === TENSOR_DATA_TYPE && p.value === TENSOR_FLOAT)) continue;
      for (const data of parts.filter((p) => p.field === TENSOR_RAW_DATA || p.field === TENSOR_FLOAT_DATA)) {
        for (let p = data.start; p + 4 <= data.end; p += 4) {
          const w = view.getFloat32(p, true);
          if (w !== 0 && Math.abs(w) < below) {
            view.setFloat32(p, 0, true);
            flushed++;
          }
        }
      }
    }
  }
  return flushed;
}
