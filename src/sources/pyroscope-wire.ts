import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * The one Pyroscope request flamebill sends in protobuf: `querier.v1.SelectMergeProfileRequest`
 * (api/querier/v1/querier.proto in grafana/pyroscope):
 *
 * ```proto
 * message SelectMergeProfileRequest {
 *   string profile_typeID = 1;
 *   string label_selector = 2;
 *   int64 start = 3;  // ms since the epoch
 *   int64 end = 4;    // ms since the epoch
 *   optional int64 max_nodes = 5;  // unset: no truncation
 * }
 * ```
 *
 * Why protobuf and not JSON: Connect answers a unary call in the codec of the request, so a JSON
 * request gets the profile back as JSON; only an `application/proto` request gets the pprof bytes
 * (`google.v1.Profile` is the pprof message). Generating code for one four-field message is not worth
 * a build step, so the fields are written with @bufbuild/protobuf's wire writer.
 */
export interface SelectMergeProfileRequest {
  readonly profileTypeId: string;
  readonly labelSelector: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Encodes the request as protobuf bytes for `Content-Type: application/proto`. */
export function encodeSelectMergeProfileRequest(request: SelectMergeProfileRequest): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).string(request.profileTypeId);
  writer.tag(2, WireType.LengthDelimited).string(request.labelSelector);
  writer.tag(3, WireType.Varint).int64(BigInt(request.startMs));
  writer.tag(4, WireType.Varint).int64(BigInt(request.endMs));
  return writer.finish();
}
