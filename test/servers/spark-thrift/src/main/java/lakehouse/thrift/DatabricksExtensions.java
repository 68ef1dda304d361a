package lakehouse.thrift;

import java.util.ArrayList;
import java.util.List;
import org.apache.hive.service.rpc.thrift.TProtocolVersion;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TField;
import org.apache.thrift.protocol.TList;
import org.apache.thrift.protocol.TMessage;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolDecorator;
import org.apache.thrift.protocol.TProtocolUtil;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.protocol.TType;

/**
 * The four Databricks extensions of TCLIService without which the @databricks/sql driver cannot work with a
 * HiveServer2 (Spark's Thrift server included), added at the wire around Hive's generated classes, which know none
 * of them. Everything else is Hive's IDL as Spark's Thrift server serves it. Each can be left out (see Extension),
 * to show where the driver breaks without it.
 *
 * <ol>
 *   <li>OpenSession: the driver sends client_protocol = -7 (__HIVE_JDBC_WORKAROUND, not a Hive TProtocolVersion) and
 *       its real version in field 1282 (client_protocol_i64). Hive's classes read -7 as null and refuse the call
 *       ("Required field 'client_protocol' is unset!"). Here -7 reads as HIVE_CLI_SERVICE_PROTOCOL_V10, and the answer
 *       says SPARK_CLI_SERVICE_PROTOCOL_V8 (0xA508), the version from which the driver sends named parameters.
 *   <li>ExecuteStatement: named parameters travel in field 1288 (a list of TSparkParameter); Hive's classes skip it,
 *       so Spark would see unbound markers. Here they are taken off the wire for the server to bind.
 *   <li>GetResultSetMetadata: the driver requires field 1281 (resultFormat) to pick its result reader and fails
 *       without it. Here it is added: COLUMN_BASED_SET, the only format a HiveServer2 sends.
 *   <li>GetOperationStatus: the driver's error for a failed statement is field 1281 (displayMessage), not Hive's
 *       errorMessage; without it every SQL error reads "The operation failed due to an error". Here errorMessage is
 *       repeated there.
 * </ol>
 */
final class DatabricksExtensions {
  static final int SPARK_CLI_SERVICE_PROTOCOL_V8 = 0xA508;
  static final int COLUMN_BASED_SET = 1;
  private static final short OPEN_SESSION_CLIENT_PROTOCOL = 1;
  private static final short OPEN_SESSION_SERVER_PROTOCOL = 2;
  private static final short OPEN_SESSION_INITIAL_NAMESPACE = 1284;
  private static final short EXECUTE_STATEMENT_PARAMETERS = 1288;
  private static final short RESULT_FORMAT = 1281;
  private static final short OPERATION_STATUS_ERROR_MESSAGE = 5;
  private static final short DISPLAY_MESSAGE = 1281;

  private DatabricksExtensions() {}

  /** The extensions, each of which the server can leave out. */
  enum Extension {
    PROTOCOL_VERSION,
    PARAMETERS,
    RESULT_FORMAT,
    DISPLAY_MESSAGE
  }

  /** A named parameter as the driver sends it: a Spark type name and the value as text (null for NULL). */
  record Parameter(String name, String type, String value) {}

  /** What the extensions took off one request, for the service to use. */
  static final class Request {
    final List<Parameter> parameters = new ArrayList<>();
    String initialSchema;
  }

  /** Reads a request; the request's struct is at depth 2 (the call's argument struct is depth 1). */
  static final class Input extends TProtocolDecorator {
    private final TProtocol raw;
    private final java.util.Set<Extension> on;
    final Request request = new Request();
    private String message = "";
    private int depth;
    private short field;

    Input(TProtocol raw, java.util.Set<Extension> on) {
      super(raw);
      this.raw = raw;
      this.on = on;
    }

    @Override
    public TMessage readMessageBegin() throws TException {
      TMessage m = super.readMessageBegin();
      message = m.name;
      return m;
    }

    @Override
    public TStruct readStructBegin() throws TException {
      depth++;
      return super.readStructBegin();
    }

    @Override
    public void readStructEnd() throws TException {
      super.readStructEnd();
      depth--;
    }

    @Override
    public TField readFieldBegin() throws TException {
      TField f = super.readFieldBegin();
      while (depth == 2 && f.type != TType.STOP && takeExtension(f)) f = super.readFieldBegin();
      if (depth == 2) field = f.id;
      return f;
    }

    @Override
    public int readI32() throws TException {
      int value = super.readI32();
      boolean clientProtocol = depth == 2 && "OpenSession".equals(message) && field == OPEN_SESSION_CLIENT_PROTOCOL;
      if (clientProtocol && on.contains(Extension.PROTOCOL_VERSION) && TProtocolVersion.findByValue(value) == null)
        return TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10.getValue();
      return value;
    }

    /** Reads an extension field the generated classes do not know; false for any other field. */
    private boolean takeExtension(TField f) throws TException {
      boolean parameters = on.contains(Extension.PARAMETERS);
      if (parameters && "ExecuteStatement".equals(message) && f.id == EXECUTE_STATEMENT_PARAMETERS && f.type == TType.LIST) {
        TList list = raw.readListBegin();
        for (int i = 0; i < list.size; i++) request.parameters.add(readParameter());
        raw.readListEnd();
      } else if (on.contains(Extension.PROTOCOL_VERSION) && "OpenSession".equals(message) && f.id == OPEN_SESSION_INITIAL_NAMESPACE && f.type == TType.STRUCT) {
        request.initialSchema = readStruct(2).get((short) 2);
      } else {
        return false;
      }
      raw.readFieldEnd();
      return true;
    }

    // TSparkParameter: 1 ordinal, 2 name, 3 type, 4 value (TSparkParameterValue: 1 string, 2 double, 3 boolean).
    private Parameter readParameter() throws TException {
      String name = null;
      String type = null;
      String value = null;
      raw.readStructBegin();
      for (TField f = raw.readFieldBegin(); f.type != TType.STOP; f = raw.readFieldBegin()) {
        if (f.id == 2 && f.type == TType.STRING) name = raw.readString();
        else if (f.id == 3 && f.type == TType.STRING) type = raw.readString();
        else if (f.id == 4 && f.type == TType.STRUCT) value = readStruct(3).values().stream().findFirst().orElse(null);
        else TProtocolUtil.skip(raw, f.type);
        raw.readFieldEnd();
      }
      raw.readStructEnd();
      return new Parameter(name, type, value);
    }

    /** A struct's string, double and boolean fields (ids up to `maxId`) as text. */
    private java.util.Map<Short, String> readStruct(int maxId) throws TException {
      java.util.Map<Short, String> values = new java.util.LinkedHashMap<>();
      raw.readStructBegin();
      for (TField f = raw.readFieldBegin(); f.type != TType.STOP; f = raw.readFieldBegin()) {
        if (f.id <= maxId && f.type == TType.STRING) values.put(f.id, raw.readString());
        else if (f.id <= maxId && f.type == TType.DOUBLE) values.put(f.id, String.valueOf(raw.readDouble()));
        else if (f.id <= maxId && f.type == TType.BOOL) values.put(f.id, String.valueOf(raw.readBool()));
        else TProtocolUtil.skip(raw, f.type);
        raw.readFieldEnd();
      }
      raw.readStructEnd();
      return values;
    }
  }

  /** Writes a response; the response's struct is at depth 2 (the call's result struct is depth 1). */
  static final class Output extends TProtocolDecorator {
    private final java.util.Set<Extension> on;
    private String message = "";
    private int depth;
    private short field;
    private String errorMessage;

    Output(TProtocol raw, java.util.Set<Extension> on) {
      super(raw);
      this.on = on;
    }

    @Override
    public void writeMessageBegin(TMessage m) throws TException {
      message = m.name;
      super.writeMessageBegin(m);
    }

    @Override
    public void writeStructBegin(TStruct s) throws TException {
      depth++;
      super.writeStructBegin(s);
    }

    @Override
    public void writeStructEnd() throws TException {
      super.writeStructEnd();
      depth--;
    }

    @Override
    public void writeFieldBegin(TField f) throws TException {
      if (depth == 2) field = f.id;
      super.writeFieldBegin(f);
    }

    @Override
    public void writeI32(int value) throws TException {
      boolean serverProtocol = on.contains(Extension.PROTOCOL_VERSION) && depth == 2 && "OpenSession".equals(message) && field == OPEN_SESSION_SERVER_PROTOCOL;
      super.writeI32(serverProtocol ? SPARK_CLI_SERVICE_PROTOCOL_V8 : value);
    }

    @Override
    public void writeString(String value) throws TException {
      if (depth == 2 && "GetOperationStatus".equals(message) && field == OPERATION_STATUS_ERROR_MESSAGE)
        errorMessage = value;
      super.writeString(value);
    }

    @Override
    public void writeFieldStop() throws TException {
      if (on.contains(Extension.DISPLAY_MESSAGE) && depth == 2 && errorMessage != null) {
        super.writeFieldBegin(new TField("displayMessage", TType.STRING, DISPLAY_MESSAGE));
        super.writeString(errorMessage);
        super.writeFieldEnd();
        errorMessage = null;
      }
      if (on.contains(Extension.RESULT_FORMAT) && depth == 2 && "GetResultSetMetadata".equals(message)) {
        super.writeFieldBegin(new TField("resultFormat", TType.I32, RESULT_FORMAT));
        super.writeI32(COLUMN_BASED_SET);
        super.writeFieldEnd();
      }
      super.writeFieldStop();
    }
  }
}
