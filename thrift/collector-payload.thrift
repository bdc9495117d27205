/*
 * CollectorPayload, version 1-0-0: the record a Snowplow collector writes for every request.
 * Field ids, types, requiredness and namespace are those of Snowplow's
 * collector-payload-1 schema (iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0),
 * so that Snowplow's enrich (ThriftLoader) reads Sluice's records unchanged.
 * Declaration order matters only for Thrift's toString(); the binary encoding writes
 * fields in ascending id order, so `schema` (31337) comes last.
 */
namespace java com.snowplowanalytics.snowplow.CollectorPayload.thrift.model1

struct CollectorPayload {
  31337: string schema

  // Required fields which are intrinsic properties of HTTP
  100: string ipAddress

  // Required fields which are Snowplow-specific
  200: i64 timestamp
  210: string encoding
  220: string collector

  // Optional fields which are intrinsic properties of HTTP
  300: optional string userAgent
  310: optional string refererUri
  320: optional string path
  330: optional string querystring
  340: optional string body
  350: optional list<string> headers
  360: optional string contentType

  // Optional fields which are Snowplow-specific
  400: optional string hostname
  410: optional string networkUserId
}
