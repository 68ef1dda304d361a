package lakehouse.thrift;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.File;
import java.io.FileInputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import lakehouse.thrift.DatabricksExtensions.Extension;
import org.apache.hive.service.rpc.thrift.*;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.*;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TMemoryBuffer;
import org.apache.thrift.transport.TMemoryInputTransport;

/**
 * Spark SQL with Delta Lake behind the HiveServer2 TCLIService protocol over HTTPS (Thrift binary protocol in POST
 * bodies, as Spark's Thrift server in HTTP transport mode), serving the Delta tables under a folder as
 * `schema.table`. Results are column-based row sets made as Spark's server makes them (RowSetUtils: numbers in their
 * own columns, floats as doubles, everything else as HiveResult.toHiveString text), types as its toTTypeId maps them.
 * Databricks' protocol extensions, which the @databricks/sql driver needs, are added by DatabricksExtensions.
 *
 * <p>Usage: --delta-root DIR [--port N] [--path /cliservice]. The path serves every extension; PATH/hive none (the
 * protocol of Spark's own server), PATH/no-parameters, PATH/no-result-format and PATH/no-display-message all but one. The token clients must send as
 * "Authorization: Bearer" is SPARK_THRIFT_TOKEN, the PKCS12 keystore SPARK_THRIFT_KEYSTORE with password
 * SPARK_THRIFT_KEYSTORE_PASSWORD. Prints {"port": N} on stdout once it listens.
 */
public final class SparkThriftServer implements TCLIService.Iface {
  private static final ThreadLocal<DatabricksExtensions.Request> REQUEST = new ThreadLocal<>();
  private final SparkSession spark;
  private final Map<ByteBuffer, SparkSession> sessions = new ConcurrentHashMap<>();
  private final Map<ByteBuffer, Operation> operations = new ConcurrentHashMap<>();
  private final ExecutorService statements = Executors.newFixedThreadPool(4);

  /** One statement: its rows once Spark has them, and how far the client has fetched. */
  private static final class Operation {
    Future<?> running;
    volatile StructType schema;
    volatile List<Row> rows;
    volatile Exception error;
    volatile boolean canceled;
    long deadline = Long.MAX_VALUE;
    int fetched;
  }

  private SparkThriftServer(SparkSession spark) {
    this.spark = spark;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; i++)
      args.put(argv[i], i + 1 < argv.length && !argv[i + 1].startsWith("--") ? argv[++i] : "true");
    SparkSession spark =
        SparkSession.builder()
            .appName("spark-thrift-stand-in")
            .master("local[2]")
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.databricks.delta.snapshotPartitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    registerTables(spark, new File(args.get("--delta-root")));
    SparkThriftServer service = new SparkThriftServer(spark);
    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args.getOrDefault("--port", "0"))), 64);
    server.setHttpsConfigurator(new HttpsConfigurator(sslContext()));
    TCLIService.Processor<SparkThriftServer> processor = new TCLIService.Processor<>(service);
    String token = System.getenv("SPARK_THRIFT_TOKEN");
    String path = args.getOrDefault("--path", "/cliservice");
    Map<String, EnumSet<Extension>> modes = Map.of(
        path, EnumSet.allOf(Extension.class),
        path + "/hive", EnumSet.noneOf(Extension.class),
        path + "/no-parameters", EnumSet.complementOf(EnumSet.of(Extension.PARAMETERS)),
        path + "/no-result-format", EnumSet.complementOf(EnumSet.of(Extension.RESULT_FORMAT)),
        path + "/no-display-message", EnumSet.complementOf(EnumSet.of(Extension.DISPLAY_MESSAGE)));
    modes.forEach((at, on) -> server.createContext(at, exchange -> {
      try (exchange) {
        if (!exchange.getRequestURI().getPath().equals(at)) exchange.sendResponseHeaders(404, -1);
        else service.serve(exchange, processor, token, on);
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
    System.out.println("{\"port\": " + server.getAddress().getPort() + "}");
    System.out.flush();
  }

  /** Every `<root>/<schema>/<table>` holding a _delta_log becomes the catalog table schema.table. */
  private static void registerTables(SparkSession spark, File root) {
    File[] schemas = root.listFiles(File::isDirectory);
    for (File schema : schemas == null ? new File[0] : schemas) {
      spark.sql("CREATE DATABASE IF NOT EXISTS `" + schema.getName() + "`");
      File[] tables = schema.listFiles(f -> new File(f, "_delta_log").isDirectory());
      for (File table : tables == null ? new File[0] : tables) {
        String location = table.getAbsolutePath().replace("'", "\\'");
        spark.sql("CREATE TABLE IF NOT EXISTS `" + schema.getName() + "`.`" + table.getName() + "` USING DELTA LOCATION '" + location + "'");
      }
    }
  }

  private static SSLContext sslContext() throws Exception {
    char[] password = System.getenv("SPARK_THRIFT_KEYSTORE_PASSWORD").toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(System.getenv("SPARK_THRIFT_KEYSTORE"))) {
      keys.load(in, password);
    }
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(keys, password);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(factory.getKeyManagers(), null, null);
    return context;
  }

  /** One HTTP POST: a Thrift message in, its answer out (what libthrift's TServlet does, on the JDK's server). */
  private void serve(HttpExchange exchange, TCLIService.Processor<?> processor, String token, Set<Extension> on)
      throws Exception {
    String expected = "Bearer " + token;
    String given = exchange.getRequestHeaders().getFirst("Authorization");
    if (!"POST".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(405, -1);
      return;
    }
    if (given == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8))) {
      exchange.sendResponseHeaders(401, -1);
      return;
    }
    byte[] body = exchange.getRequestBody().readAllBytes();
    TMemoryBuffer answer = new TMemoryBuffer(4096);
    TProtocol in = new TBinaryProtocol(new TMemoryInputTransport(body));
    TProtocol out = new TBinaryProtocol(answer);
    DatabricksExtensions.Input input = new DatabricksExtensions.Input(in, on);
    REQUEST.set(input.request);
    try {
      processor.process(input, new DatabricksExtensions.Output(out, on));
    } finally {
      REQUEST.remove();
    }
    byte[] bytes = answer.getArray();
    exchange.getResponseHeaders().set("Content-Type", "application/x-thrift");
    exchange.sendResponseHeaders(200, answer.length());
    exchange.getResponseBody().write(bytes, 0, answer.length());
  }

  private static TStatus ok() {
    return new TStatus(TStatusCode.SUCCESS_STATUS);
  }

  private static TStatus error(Exception e) {
    TStatus status = new TStatus(TStatusCode.ERROR_STATUS);
    status.setErrorMessage(String.valueOf(e.getMessage()));
    if (e instanceof SparkThrowable t && t.getSqlState() != null) status.setSqlState(t.getSqlState());
    return status;
  }

  private static THandleIdentifier newHandle() {
    UUID id = UUID.randomUUID();
    ByteBuffer guid = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
    ByteBuffer secret = ByteBuffer.allocate(16).putLong(UUID.randomUUID().getMostSignificantBits()).putLong(0);
    return new THandleIdentifier(guid.flip(), secret.flip());
  }

  private SparkSession session(TSessionHandle handle) {
    SparkSession s = sessions.get(handle.getSessionId().bufferForGuid());
    if (s == null) throw new IllegalArgumentException("Invalid SessionHandle: the session is closed or unknown");
    return s;
  }

  private Operation operation(TOperationHandle handle) {
    Operation o = operations.get(handle.getOperationId().bufferForGuid());
    if (o == null) throw new IllegalArgumentException("Invalid OperationHandle: the operation is closed or unknown");
    return o;
  }

  @Override
  public TOpenSessionResp OpenSession(TOpenSessionReq req) {
    TOpenSessionResp resp = new TOpenSessionResp(ok(), TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10);
    try {
      // Each client session gets its own SparkSession (own current schema and temporary views), as on Spark's server.
      SparkSession session = spark.newSession();
      String schema = REQUEST.get().initialSchema;
      if (schema != null) session.sql("USE `" + schema.replace("`", "``") + "`");
      THandleIdentifier id = newHandle();
      sessions.put(id.bufferForGuid(), session);
      resp.setSessionHandle(new TSessionHandle(id));
    } catch (Exception e) {
      resp.setStatus(error(e));
    }
    return resp;
  }

  @Override
  public TCloseSessionResp CloseSession(TCloseSessionReq req) {
    sessions.remove(req.getSessionHandle().getSessionId().bufferForGuid());
    return new TCloseSessionResp(ok());
  }

  @Override
  public TGetInfoResp GetInfo(TGetInfoReq req) {
    String value = switch (req.getInfoType()) {
      case CLI_DBMS_NAME, CLI_SERVER_NAME -> "Spark SQL";
      case CLI_DBMS_VER -> spark.version();
      default -> "";
    };
    return new TGetInfoResp(ok(), TGetInfoValue.stringValue(value));
  }

  @Override
  public TExecuteStatementResp ExecuteStatement(TExecuteStatementReq req) {
    TExecuteStatementResp resp = new TExecuteStatementResp(ok());
    try {
      SparkSession session = session(req.getSessionHandle());
      Map<String, Object> args = bind(REQUEST.get().parameters);
      Operation op = new Operation();
      if (req.getQueryTimeout() > 0) op.deadline = System.currentTimeMillis() + req.getQueryTimeout() * 1000;
      String group = UUID.randomUUID().toString();
      op.running = statements.submit(() -> run(session, req.getStatement(), args, op, group));
      if (!req.isRunAsync()) op.running.get();
      THandleIdentifier id = newHandle();
      operations.put(id.bufferForGuid(), op);
      TOperationHandle handle = new TOperationHandle(id, TOperationType.EXECUTE_STATEMENT, true);
      resp.setOperationHandle(handle);
    } catch (Exception e) {
      resp.setStatus(error(e));
    }
    return resp;
  }

  private static void run(SparkSession session, String sql, Map<String, Object> args, Operation op, String group) {
    try {
      session.sparkContext().setJobGroup(group, sql, true);
      Dataset<Row> frame = session.sql(sql, args);
      op.schema = frame.schema();
      op.rows = frame.collectAsList();
    } catch (Exception e) {
      op.error = e;
    }
  }

  /** The driver's parameters as the Java values spark.sql(text, args) binds: typed by their Spark type name. */
  private static Map<String, Object> bind(List<DatabricksExtensions.Parameter> parameters) {
    Map<String, Object> args = new HashMap<>();
    for (DatabricksExtensions.Parameter p : parameters) {
      if (p.name() == null) throw new IllegalArgumentException("only named parameters are supported");
      String v = p.value();
      Object value = v == null ? null : switch (p.type() == null ? "STRING" : p.type().toUpperCase()) {
        case "INTEGER", "INT" -> Integer.valueOf(v);
        case "BIGINT" -> Long.valueOf(v);
        case "SMALLINT" -> Short.valueOf(v);
        case "TINYINT" -> Byte.valueOf(v);
        case "DOUBLE" -> Double.valueOf(v);
        case "FLOAT" -> Float.valueOf(v);
        case "DECIMAL" -> new BigDecimal(v);
        case "BOOLEAN" -> Boolean.valueOf(v);
        case "DATE" -> java.time.LocalDate.parse(v);
        case "TIMESTAMP" -> java.time.Instant.parse(v);
        case "STRING" -> v;
        default -> throw new IllegalArgumentException("parameter " + p.name() + ": unsupported type " + p.type());
      };
      args.put(p.name(), value);
    }
    return args;
  }

  @Override
  public TGetOperationStatusResp GetOperationStatus(TGetOperationStatusReq req) {
    TGetOperationStatusResp resp = new TGetOperationStatusResp(ok());
    try {
      Operation op = operation(req.getOperationHandle());
      if (!op.running.isDone() && System.currentTimeMillis() > op.deadline) cancel(op);
      TOperationState state;
      if (op.canceled) state = op.deadline < System.currentTimeMillis() ? TOperationState.TIMEDOUT_STATE : TOperationState.CANCELED_STATE;
      else if (!op.running.isDone()) state = TOperationState.RUNNING_STATE;
      else if (op.error != null) state = TOperationState.ERROR_STATE;
      else state = TOperationState.FINISHED_STATE;
      resp.setOperationState(state);
      // A statement without columns (CREATE, INSERT) has no result set, as HiveServer2 says of DDL: the driver then
      // fetches nothing.
      resp.setHasResultSet(state != TOperationState.FINISHED_STATE || op.schema.fields().length > 0);
      if (state == TOperationState.ERROR_STATE) {
        resp.setErrorMessage(String.valueOf(op.error.getMessage()));
        if (op.error instanceof SparkThrowable t && t.getSqlState() != null) resp.setSqlState(t.getSqlState());
      }
    } catch (Exception e) {
      resp.setStatus(error(e));
    }
    return resp;
  }

  private void cancel(Operation op) {
    op.canceled = true;
    op.running.cancel(true);
    spark.sparkContext().cancelAllJobs();
  }

  @Override
  public TCancelOperationResp CancelOperation(TCancelOperationReq req) {
    try {
      cancel(operation(req.getOperationHandle()));
      return new TCancelOperationResp(ok());
    } catch (Exception e) {
      return new TCancelOperationResp(error(e));
    }
  }

  @Override
  public TCloseOperationResp CloseOperation(TCloseOperationReq req) {
    operations.remove(req.getOperationHandle().getOperationId().bufferForGuid());
    return new TCloseOperationResp(ok());
  }

  @Override
  public TGetResultSetMetadataResp GetResultSetMetadata(TGetResultSetMetadataReq req) {
    TGetResultSetMetadataResp resp = new TGetResultSetMetadataResp(ok());
    try {
      Operation op = finished(operation(req.getOperationHandle()));
      // A statement without rows (CREATE, INSERT) has an empty schema: the list must still be there, empty, as Spark's
      // own server sends it (an unset list fails the Thrift encoding).
      TTableSchema schema = new TTableSchema(new ArrayList<>());
      StructField[] fields = op.schema.fields();
      for (int i = 0; i < fields.length; i++) schema.addToColumns(new TColumnDesc(fields[i].name(), typeDesc(fields[i].dataType()), i + 1));
      resp.setSchema(schema);
    } catch (Exception e) {
      resp.setStatus(error(e));
    }
    return resp;
  }

  private static Operation finished(Operation op) throws Exception {
    op.running.get();
    if (op.error != null) throw op.error;
    return op;
  }

  /** SparkExecuteStatementOperation.toTTypeId, with decimal precision and scale as qualifiers. */
  private static TTypeDesc typeDesc(DataType type) {
    TTypeId id;
    if (type instanceof BooleanType) id = TTypeId.BOOLEAN_TYPE;
    else if (type instanceof ByteType) id = TTypeId.TINYINT_TYPE;
    else if (type instanceof ShortType) id = TTypeId.SMALLINT_TYPE;
    else if (type instanceof IntegerType) id = TTypeId.INT_TYPE;
    else if (type instanceof LongType) id = TTypeId.BIGINT_TYPE;
    else if (type instanceof FloatType) id = TTypeId.FLOAT_TYPE;
    else if (type instanceof DoubleType) id = TTypeId.DOUBLE_TYPE;
    else if (type instanceof StringType) id = TTypeId.STRING_TYPE;
    else if (type instanceof DecimalType) id = TTypeId.DECIMAL_TYPE;
    else if (type instanceof DateType) id = TTypeId.DATE_TYPE;
    else if (type instanceof TimestampType || type instanceof TimestampNTZType) id = TTypeId.TIMESTAMP_TYPE;
    else if (type instanceof BinaryType) id = TTypeId.BINARY_TYPE;
    else if (type instanceof ArrayType) id = TTypeId.ARRAY_TYPE;
    else if (type instanceof MapType) id = TTypeId.MAP_TYPE;
    else if (type instanceof StructType) id = TTypeId.STRUCT_TYPE;
    else if (type instanceof NullType) id = TTypeId.NULL_TYPE;
    else id = TTypeId.STRING_TYPE;
    TPrimitiveTypeEntry entry = new TPrimitiveTypeEntry(id);
    if (type instanceof DecimalType d) {
      Map<String, TTypeQualifierValue> q = new HashMap<>();
      q.put("precision", TTypeQualifierValue.i32Value(d.precision()));
      q.put("scale", TTypeQualifierValue.i32Value(d.scale()));
      entry.setTypeQualifiers(new TTypeQualifiers(q));
    }
    TTypeDesc desc = new TTypeDesc();
    desc.addToTypes(TTypeEntry.primitiveEntry(entry));
    return desc;
  }

  @Override
  public TFetchResultsResp FetchResults(TFetchResultsReq req) {
    TFetchResultsResp resp = new TFetchResultsResp(ok());
    try {
      Operation op = finished(operation(req.getOperationHandle()));
      if (req.getFetchType() == 1) {
        // Operation logs: Spark's server has them; nothing is logged here.
        resp.setResults(new TRowSet(0, new ArrayList<>()));
        resp.getResults().setColumns(new ArrayList<>());
        resp.setHasMoreRows(false);
        return resp;
      }
      if (req.getOrientation() == TFetchOrientation.FETCH_FIRST) op.fetched = 0;
      int from = op.fetched;
      int to = (int) Math.min(op.rows.size(), from + Math.max(1, Math.min(req.getMaxRows(), 10_000)));
      op.fetched = to;
      resp.setResults(RowSets.columnBased(from, op.rows.subList(from, to), op.schema));
      resp.setHasMoreRows(to < op.rows.size());
    } catch (Exception e) {
      resp.setStatus(error(e));
    }
    return resp;
  }

  private static TException notServed(String call) {
    return new TException(call + " is not served by this stand-in (the app does not use it)");
  }

  @Override public TGetTypeInfoResp GetTypeInfo(TGetTypeInfoReq req) throws TException { throw notServed("GetTypeInfo"); }
  @Override public TGetCatalogsResp GetCatalogs(TGetCatalogsReq req) throws TException { throw notServed("GetCatalogs"); }
  @Override public TGetSchemasResp GetSchemas(TGetSchemasReq req) throws TException { throw notServed("GetSchemas"); }
  @Override public TGetTablesResp GetTables(TGetTablesReq req) throws TException { throw notServed("GetTables"); }
  @Override public TGetTableTypesResp GetTableTypes(TGetTableTypesReq req) throws TException { throw notServed("GetTableTypes"); }
  @Override public TGetColumnsResp GetColumns(TGetColumnsReq req) throws TException { throw notServed("GetColumns"); }
  @Override public TGetFunctionsResp GetFunctions(TGetFunctionsReq req) throws TException { throw notServed("GetFunctions"); }
  @Override public TGetPrimaryKeysResp GetPrimaryKeys(TGetPrimaryKeysReq req) throws TException { throw notServed("GetPrimaryKeys"); }
  @Override public TGetCrossReferenceResp GetCrossReference(TGetCrossReferenceReq req) throws TException { throw notServed("GetCrossReference"); }
  @Override public TGetDelegationTokenResp GetDelegationToken(TGetDelegationTokenReq req) throws TException { throw notServed("GetDelegationToken"); }
  @Override public TCancelDelegationTokenResp CancelDelegationToken(TCancelDelegationTokenReq req) throws TException { throw notServed("CancelDelegationToken"); }
  @Override public TRenewDelegationTokenResp RenewDelegationToken(TRenewDelegationTokenReq req) throws TException { throw notServed("RenewDelegationToken"); }
  @Override public TGetQueryIdResp GetQueryId(TGetQueryIdReq req) throws TException { throw notServed("GetQueryId"); }
  @Override public TSetClientInfoResp SetClientInfo(TSetClientInfoReq req) throws TException { throw notServed("SetClientInfo"); }
  @Override public TUploadDataResp UploadData(TUploadDataReq req) throws TException { throw notServed("UploadData"); }
  @Override public TDownloadDataResp DownloadData(TDownloadDataReq req) throws TException { throw notServed("DownloadData"); }
}
