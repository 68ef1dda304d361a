package lakehouse.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;

/**
 * Runs Spark SQL statements for the lakehouse CLI and its tests, on Apache Spark with Delta Lake.
 *
 * <p>Reads one job as JSON on stdin (stdin, so that credentials never reach argv):
 *
 * <pre>
 * {"appName", "master", "conf": {k: v},
 *  "delta": {"root": "/abs/folder", "schemas": ["silver", "gold"]},   (optional, see DeltaFolder)
 *  "redact": ["value", ...],                                           (optional: never printed)
 *  "continueOnError": false,                                           (optional: run every statement)
 *  "statements": [
 *    {"id", "sql", "args": {name: value}, "maxRows": 100},            (a Spark SQL statement)
 *    {"id", "view", "jdbc": {option: value}}]}                         (a temporary view over Spark's JDBC source)
 * </pre>
 *
 * <p>Writes JSON lines to stdout: first {"session": {"spark", "delta", "master", "tables", "ms"}} (or {"session":
 * null, "ok": false, "error"}), then one line per statement: {"id", "ok": true, "ms", "columns": [{"name", "type"}],
 * "rows": [[...]], "truncated"} or {"id", "ok": false, "ms", "error", "condition", "parameters"}. It stops at the
 * first failure (exit code 1), unless continueOnError (then every statement runs and the exit code is 0).
 * Statements run with spark.sql(sql, args), so ":name" markers are bound as named parameters, never spliced into the
 * text; a query runs to its last row (every row of a check is evaluated), of
 * which maxRows are returned. Spark's own logs go to stderr.
 */
public final class Engine {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    // stdout carries the JSON lines only; anything else printed there by a library would break the protocol.
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    JsonNode job = JSON.readTree(new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
    Redactor redactor = new Redactor(job.path("redact"));
    long started = System.nanoTime();
    SparkSession spark;
    ObjectNode session = JSON.createObjectNode();
    try {
      spark = session(job);
      session.put("spark", spark.version()).put("delta", deltaVersion()).put("master", spark.sparkContext().master());
      ArrayNode tables = session.putArray("tables");
      if (job.hasNonNull("delta")) DeltaFolder.register(spark, job.path("delta")).forEach(tables::add);
    } catch (Exception e) {
      ObjectNode failed = JSON.createObjectNode().putNull("session").put("ok", false);
      out.println(JSON.writeValueAsString(describe(failed, e, redactor)));
      System.exit(1);
      return;
    }
    session.put("ms", (System.nanoTime() - started) / 1_000_000);
    out.println(JSON.writeValueAsString(JSON.createObjectNode().set("session", session)));
    int status = 0;
    try {
      for (JsonNode statement : job.path("statements")) {
        ObjectNode result = run(spark, statement, redactor);
        out.println(JSON.writeValueAsString(result));
        if (!result.path("ok").asBoolean() && !job.path("continueOnError").asBoolean(false)) {
          status = 1;
          break;
        }
      }
    } finally {
      spark.stop();
    }
    System.exit(status);
  }

  private static SparkSession session(JsonNode job) {
    SparkSession.Builder builder =
        SparkSession.builder()
            .appName(job.path("appName").asText("lakehouse"))
            .master(job.path("master").asText("local[*]"))
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.ui.enabled", "false");
    job.path("conf").fields().forEachRemaining(e -> builder.config(e.getKey(), e.getValue().asText()));
    return builder.getOrCreate();
  }

  private static ObjectNode run(SparkSession spark, JsonNode statement, Redactor redactor) {
    ObjectNode result = JSON.createObjectNode();
    result.set("id", statement.path("id"));
    long started = System.nanoTime();
    try {
      if (statement.has("jdbc")) {
        jdbcView(spark, statement);
      } else {
        Map<String, Object> args = new LinkedHashMap<>();
        statement.path("args").fields().forEachRemaining(e -> args.put(e.getKey(), value(e.getValue())));
        collect(spark.sql(statement.path("sql").asText(), args), statement.path("maxRows").asInt(100), result);
      }
      result.put("ok", true);
    } catch (Exception e) {
      result.removeAll();
      result.set("id", statement.path("id"));
      describe(result.put("ok", false), e, redactor);
    }
    result.put("ms", (System.nanoTime() - started) / 1_000_000);
    return result;
  }

  /** CREATE OR REPLACE TEMPORARY VIEW view USING jdbc OPTIONS (...), with options that never pass through SQL text. */
  private static void jdbcView(SparkSession spark, JsonNode statement) {
    Map<String, String> options = new LinkedHashMap<>();
    statement.path("jdbc").fields().forEachRemaining(e -> options.put(e.getKey(), e.getValue().asText()));
    spark.read().format("jdbc").options(options).load().createOrReplaceTempView(statement.path("view").asText());
  }

  /** Runs the query to its last row; keeps the first maxRows. */
  private static void collect(Dataset<Row> frame, int maxRows, ObjectNode result) {
    ArrayNode columns = result.putArray("columns");
    for (StructField field : frame.schema().fields())
      columns.addObject().put("name", field.name()).put("type", field.dataType().simpleString());
    ArrayNode rows = result.putArray("rows");
    boolean truncated = false;
    for (Iterator<Row> it = frame.toLocalIterator(); it.hasNext(); ) {
      Row row = it.next();
      if (rows.size() < maxRows) rows.add(JSON.valueToTree(values(row)));
      else truncated = true;
    }
    result.put("truncated", truncated);
  }

  /** The error as the caller sees it: Spark's error condition and parameters when there is one, secrets removed. */
  private static ObjectNode describe(ObjectNode result, Throwable e, Redactor redactor) {
    // Errors raised in a task arrive wrapped ("Job aborted due to stage failure"): report the cause Spark named.
    Throwable cause = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SparkThrowable s && s.getCondition() != null && !"INTERNAL_ERROR".equals(s.getCondition())) {
        cause = t;
        if (!s.getCondition().startsWith("_LEGACY")) break;
      }
    }
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    result.put("error", redactor.apply(message));
    if (cause instanceof SparkThrowable s && s.getCondition() != null) {
      result.put("condition", s.getCondition());
      ObjectNode parameters = result.putObject("parameters");
      s.getMessageParameters().forEach((k, v) -> parameters.put(k, redactor.apply(v)));
    }
    return result;
  }

  /** Delta Lake's version, from its Scala package object (whose class name Java cannot spell). */
  private static String deltaVersion() throws ReflectiveOperationException {
    return (String) Class.forName("io.delta.package").getMethod("VERSION").invoke(null);
  }

  /** A JSON parameter as the Spark literal it stands for. */
  private static Object value(JsonNode node) {
    if (node.isIntegralNumber()) return node.asLong();
    if (node.isNumber()) return node.asDouble();
    if (node.isBoolean()) return node.asBoolean();
    return node.isNull() ? null : node.asText();
  }

  /** A row's values as JSON can carry them: exact numbers that JSON would round (long, decimal) as strings. */
  private static Object[] values(Row row) {
    Object[] values = new Object[row.length()];
    for (int i = 0; i < values.length; i++) {
      Object v = row.get(i);
      if (v instanceof Long || v instanceof java.math.BigDecimal) v = v.toString();
      else if (v instanceof java.sql.Date || v instanceof java.sql.Timestamp || v instanceof java.time.temporal.Temporal)
        v = v.toString();
      else if (v instanceof scala.collection.Seq<?> seq) v = scala.jdk.javaapi.CollectionConverters.asJava(seq);
      else if (v instanceof scala.collection.Map<?, ?> map) v = scala.jdk.javaapi.CollectionConverters.asJava(map);
      values[i] = v;
    }
    return values;
  }

  /** Removes every value the job named as secret from the text it prints. */
  private record Redactor(List<String> secrets) {
    Redactor(JsonNode values) {
      this(new ArrayList<>());
      values.forEach(v -> {
        if (v.asText().length() >= 4) secrets.add(v.asText());
      });
    }

    String apply(String text) {
      String out = text;
      for (String secret : secrets) out = out.replace(secret, "***");
      return out;
    }
  }
}
