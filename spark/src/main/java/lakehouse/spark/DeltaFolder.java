package lakehouse.spark;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The session catalog over a folder of Delta tables laid out as {@code <root>/<schema>/<table>}, the layout the DuckDB
 * runner, the Delta module and the app use.
 *
 * <p>There is no Hive metastore: Spark's in-memory catalog lives as long as one JVM, so each job rebuilds it from
 * the folder. Every schema (those named in the job, and every folder of the root that holds a Delta table) is
 * created with LOCATION {@code <root>/<schema>}, so a table the job creates lands at {@code <root>/<schema>/<table>};
 * every existing table is registered at its folder, so {@code CREATE OR REPLACE TABLE}, {@code INSERT} and {@code
 * MERGE} commit a new version of the same table (its history and time travel go on) instead of failing on a
 * location that already exists.
 */
final class DeltaFolder {
  private static final String IDENTIFIER = "[A-Za-z_][A-Za-z0-9_]*";

  private DeltaFolder() {}

  /** Creates the schemas and registers the existing tables; returns the tables as schema.table. */
  static List<String> register(SparkSession spark, JsonNode delta) throws IOException {
    Path root = Path.of(delta.path("root").asText()).toAbsolutePath().normalize();
    TreeSet<String> schemas = new TreeSet<>();
    for (JsonNode schema : delta.path("schemas")) {
      if (!schema.asText().matches(IDENTIFIER))
        throw new IllegalArgumentException("delta.schemas: expected a schema name, found '" + schema.asText() + "'");
      schemas.add(schema.asText());
    }
    TreeSet<String> tables = new TreeSet<>();
    for (Path table : deltaTables(root)) {
      schemas.add(table.getParent().getFileName().toString());
      tables.add(table.getParent().getFileName() + "." + table.getFileName());
    }
    for (String schema : schemas) {
      Files.createDirectories(root.resolve(schema));
      spark.sql("CREATE SCHEMA IF NOT EXISTS `" + schema + "` LOCATION " + literal(root.resolve(schema).toUri().toString()));
    }
    for (String table : tables) {
      String[] parts = table.split("\\.");
      spark.catalog().createTable(table, root.resolve(parts[0]).resolve(parts[1]).toUri().toString(), "delta");
    }
    return new ArrayList<>(tables);
  }

  /** Folders {@code <root>/<schema>/<table>} that hold a Delta log, both names plain identifiers. */
  private static List<Path> deltaTables(Path root) throws IOException {
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> schemas = Files.list(root)) {
      return schemas
          .filter(s -> Files.isDirectory(s) && s.getFileName().toString().matches(IDENTIFIER))
          .flatMap(DeltaFolder::children)
          .filter(t -> t.getFileName().toString().matches(IDENTIFIER) && Files.isDirectory(t.resolve("_delta_log")))
          .sorted()
          .toList();
    }
  }

  private static Stream<Path> children(Path folder) {
    try (Stream<Path> list = Files.list(folder)) {
      return list.toList().stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Spark SQL string literal: backslashes and quotes escaped. */
  private static String literal(String text) {
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
