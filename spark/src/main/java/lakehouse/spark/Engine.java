package lakehouse.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;

/**
 * Runs Spark SQL statements for the lakehouse CLI and its tests, on Apache Spark with Delta Lake.
 *
 * <p>Reads one job as JSON on stdin: {"master", "conf": {k: v}, "statements": [{"id", "sql", "args": {name: value},
 * "collect": bool}]}. Each statement runs with spark.sql(sql, args), so ":name" markers are bound as named
 * parameters (as Databricks binds widgets), never spliced into the text. Writes one JSON line per statement to
 * stdout: {"id", "ok", "ms", "columns": [{"name", "type"}], "rows": [[...]]} or {"id", "ok": false, "error"}, and
 * stops at the first failure (exit code 1). Spark's own logs go to stderr.
 */
public final class Engine {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    // stdout carries the JSON lines only; anything else printed there by a library would break the protocol.
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
    System.setOut(System.err);
    JsonNode job = JSON.readTree(new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
    SparkSession spark = session(job);
    int status = 0;
    try {
      for (JsonNode statement : job.path("statements")) {
        ObjectNode result = run(spark, statement);
        out.println(JSON.writeValueAsString(result));
        if (!result.path("ok").asBoolean()) {
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

  private static ObjectNode run(SparkSession spark, JsonNode statement) {
    ObjectNode result = JSON.createObjectNode();
    result.set("id", statement.path("id"));
    long started = System.nanoTime();
    try {
      Map<String, Object> args = new LinkedHashMap<>();
      statement.path("args").fields().forEachRemaining(e -> args.put(e.getKey(), value(e.getValue())));
      Dataset<Row> frame = spark.sql(statement.path("sql").asText(), args);
      if (statement.path("collect").asBoolean(true)) {
        ArrayNode columns = result.putArray("columns");
        for (StructField field : frame.schema().fields())
          columns.addObject().put("name", field.name()).put("type", field.dataType().simpleString());
        ArrayNode rows = result.putArray("rows");
        for (Row row : frame.collectAsList()) rows.add(JSON.valueToTree(values(row)));
      }
      result.put("ok", true);
    } catch (Exception e) {
      result.put("ok", false).put("error", e.getMessage() == null ? e.toString() : e.getMessage());
    }
    result.put("ms", (System.nanoTime() - started) / 1_000_000);
    return result;
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
      // Maps (e.g. DESCRIBE HISTORY's operationParameters) as JSON objects, not as the Scala class's fields.
      else if (v instanceof scala.collection.Map<?, ?> map) v = scala.jdk.javaapi.CollectionConverters.asJava(map);
      values[i] = v;
    }
    return values;
  }
}
