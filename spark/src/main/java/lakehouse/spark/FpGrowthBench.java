package lakehouse.spark;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import org.apache.spark.ml.fpm.FPGrowth;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Spark MLlib's FPGrowth on a file of baskets, for bench/rules.mjs (which compares it with the notebook's SQL).
 *
 * <pre>java … lakehouse.spark.FpGrowthBench BASKETS MIN_SUPPORT MAX_LEN REPEAT ITEMSETS_OUT</pre>
 *
 * <p>BASKETS: one basket a line, its items separated by tabs (a repeated item counts once). MAX_LEN 0 is no limit;
 * MLlib has no length limit, so longer itemsets are dropped after mining. Mining (fit, then collecting the itemsets)
 * runs REPEAT times in the same session. Writes the frequent itemsets of the last run to ITEMSETS_OUT (the items in
 * name order, then the basket count, tab-separated, one itemset a line) and one JSON line to stdout: {"spark",
 * "master", "baskets", "itemsets", "sessionMs", "loadMs", "miningMs": [each run], "miningCpuMs": [each run]}. CPU is
 * the whole JVM's (every thread). Spark's log goes to stderr.
 */
public final class FpGrowthBench {
  public static void main(String[] argv) throws Exception {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8);
    System.setOut(System.err);
    double minSupport = Double.parseDouble(argv[1]);
    int maxLen = Integer.parseInt(argv[2]);
    int repeat = Integer.parseInt(argv[3]);
    var cpu = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ObjectNode result = new ObjectMapper().createObjectNode();

    long started = System.nanoTime();
    SparkSession spark =
        SparkSession.builder().appName("fpgrowth-bench").master("local[*]").config("spark.ui.enabled", "false").getOrCreate();
    result.put("spark", spark.version()).put("master", spark.sparkContext().master());
    result.put("sessionMs", (System.nanoTime() - started) / 1e6);

    started = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(argv[0]), UTF_8))
      if (!line.isEmpty()) rows.add(RowFactory.create(new ArrayList<>(new LinkedHashSet<>(Arrays.asList(line.split("\t"))))));
    StructType schema = new StructType().add("items", DataTypes.createArrayType(DataTypes.StringType), false);
    Dataset<Row> baskets = spark.createDataFrame(rows, schema).cache();
    result.put("baskets", baskets.count());
    result.put("loadMs", (System.nanoTime() - started) / 1e6);

    List<Row> itemsets = List.of();
    var miningMs = result.putArray("miningMs");
    var miningCpuMs = result.putArray("miningCpuMs");
    for (int i = 0; i < repeat; i++) {
      long cpuStart = cpu.getProcessCpuTime();
      started = System.nanoTime();
      itemsets = new FPGrowth().setItemsCol("items").setMinSupport(minSupport).fit(baskets).freqItemsets().collectAsList();
      miningMs.add((System.nanoTime() - started) / 1e6);
      miningCpuMs.add((cpu.getProcessCpuTime() - cpuStart) / 1e6);
    }

    List<String> lines = new ArrayList<>();
    for (Row row : itemsets) {
      List<String> items = new ArrayList<>(row.getList(0));
      if (maxLen > 0 && items.size() > maxLen) continue;
      items.sort(null);
      lines.add(String.join("\t", items) + "\t" + row.getLong(1));
    }
    Files.write(Path.of(argv[4]), lines, UTF_8);
    result.put("itemsets", lines.size());
    spark.stop();
    out.println(result);
  }
}
