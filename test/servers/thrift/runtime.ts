// The Thrift runtime and the TCLIService code generated from the IDL, as the @databricks/sql driver ships them.
// They are CommonJS without usable typings (the generated .d.ts files export nothing), so they are loaded with
// createRequire and given the few types this server needs.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** node-int64: a 64-bit integer held in an 8-byte big-endian buffer. */
export interface Int64 {
  buffer: Buffer;
  toNumber(allowImprecise?: boolean): number;
}
type Int64Class = new (value: Buffer | number) => Int64;

interface Transport {
  commitPosition(): void;
  rollbackPosition(): void;
}
interface ThriftRuntime {
  TBufferedTransport: {
    new (buffer: undefined, onFlush: (message: Buffer) => void): Transport;
    receiver(onData: (transport: Transport) => void, seqid?: number): (data: Buffer) => void;
  };
  TBinaryProtocol: new (transport: Transport) => object;
  InputBufferUnderrunError: new () => Error;
  Int64: Int64Class;
}
interface TCLIServiceModule {
  Processor: new (handler: object) => { process(input: object, output: object): void };
}

export const thrift = require('thrift') as ThriftRuntime;
export const TCLIService = require('@databricks/sql/thrift/TCLIService.js') as TCLIServiceModule;

// Enumerations from the IDL (TCLIService_types.js), read at load time so the numbers are the driver's own.
const generatedTypes = require('@databricks/sql/thrift/TCLIService_types.js') as Record<
  string,
  Record<string, number>
>;
function enumeration<K extends string>(name: string, keys: readonly K[]): Record<K, number> {
  const values = generatedTypes[name];
  const result = {} as Record<K, number>;
  for (const key of keys) {
    const value = values?.[key];
    if (value === undefined) throw new Error(`TCLIService_types.js has no ${name}.${key}`);
    result[key] = value;
  }
  return result;
}

export const TProtocolVersion = enumeration('TProtocolVersion', [
  'SPARK_CLI_SERVICE_PROTOCOL_V1',
  'SPARK_CLI_SERVICE_PROTOCOL_V8',
] as const);
export const TStatusCode = enumeration('TStatusCode', [
  'SUCCESS_STATUS',
  'ERROR_STATUS',
  'INVALID_HANDLE_STATUS',
] as const);
export const TOperationState = enumeration('TOperationState', [
  'RUNNING_STATE',
  'FINISHED_STATE',
  'CANCELED_STATE',
  'CLOSED_STATE',
  'ERROR_STATE',
  'TIMEDOUT_STATE',
] as const);
export const TOperationType = enumeration('TOperationType', [
  'EXECUTE_STATEMENT',
  'GET_CATALOGS',
  'GET_SCHEMAS',
  'GET_TABLES',
  'GET_TABLE_TYPES',
  'GET_COLUMNS',
] as const);
export const TSparkRowSetType = enumeration('TSparkRowSetType', ['COLUMN_BASED_SET'] as const);
export const TFetchOrientation = enumeration('TFetchOrientation', ['FETCH_NEXT', 'FETCH_FIRST'] as const);
export const TGetInfoType = enumeration('TGetInfoType', [
  'CLI_SERVER_NAME',
  'CLI_DBMS_NAME',
  'CLI_DBMS_VER',
] as const);
export const TTypeId = enumeration('TTypeId', [
  'BOOLEAN_TYPE',
  'TINYINT_TYPE',
  'SMALLINT_TYPE',
  'INT_TYPE',
  'BIGINT_TYPE',
  'FLOAT_TYPE',
  'DOUBLE_TYPE',
  'STRING_TYPE',
  'TIMESTAMP_TYPE',
  'BINARY_TYPE',
  'ARRAY_TYPE',
  'MAP_TYPE',
  'STRUCT_TYPE',
  'DECIMAL_TYPE',
  'NULL_TYPE',
  'DATE_TYPE',
] as const);

export function int64(value: bigint | number): Int64 {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value));
  return new thrift.Int64(buffer);
}

/** Reads an i64 field of a request: the generated reader gives node-int64 objects. */
export function numberFromInt64(value: Int64 | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? value : value.toNumber(true);
}
