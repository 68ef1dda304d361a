package lakehouse.thrift;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Function;
import org.apache.hive.service.rpc.thrift.*;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.execution.HiveResult;
import org.apache.spark.sql.types.*;
import scala.Tuple2;

/**
 * Column-based row sets as Spark's Thrift server builds them (its RowSetUtils.toColumnBasedSet): booleans, integers
 * and doubles in their own columns, floats as doubles through their text, strings and binaries as they are, every
 * other type (decimal, date, timestamp, array, map, struct) as the text Spark's HiveResult.toHiveString gives.
 */
final class RowSets {
  private RowSets() {}

  static TRowSet columnBased(long offset, List<Row> rows, StructType schema) {
    TRowSet set = new TRowSet(offset, new ArrayList<>());
    List<TColumn> columns = new ArrayList<>();
    StructField[] fields = schema.fields();
    HiveResult.TimeFormatters formatters = HiveResult.getTimeFormatters();
    scala.Function1<byte[], String> binary = HiveResult.getBinaryFormatter();
    for (int i = 0; i < fields.length; i++) columns.add(column(rows, i, fields[i].dataType(), formatters, binary));
    set.setColumns(columns);
    return set;
  }

  private static TColumn column(
      List<Row> rows, int ordinal, DataType type, HiveResult.TimeFormatters formatters, scala.Function1<byte[], String> binary) {
    BitSet nulls = new BitSet();
    if (type instanceof BooleanType)
      return TColumn.boolVal(new TBoolColumn(values(rows, ordinal, nulls, false, v -> (Boolean) v), bytes(nulls)));
    if (type instanceof ByteType)
      return TColumn.byteVal(new TByteColumn(values(rows, ordinal, nulls, (byte) 0, v -> (Byte) v), bytes(nulls)));
    if (type instanceof ShortType)
      return TColumn.i16Val(new TI16Column(values(rows, ordinal, nulls, (short) 0, v -> (Short) v), bytes(nulls)));
    if (type instanceof IntegerType)
      return TColumn.i32Val(new TI32Column(values(rows, ordinal, nulls, 0, v -> (Integer) v), bytes(nulls)));
    if (type instanceof LongType)
      return TColumn.i64Val(new TI64Column(values(rows, ordinal, nulls, 0L, v -> (Long) v), bytes(nulls)));
    if (type instanceof FloatType)
      return TColumn.doubleVal(new TDoubleColumn(values(rows, ordinal, nulls, 0.0, v -> Double.valueOf(v.toString())), bytes(nulls)));
    if (type instanceof DoubleType)
      return TColumn.doubleVal(new TDoubleColumn(values(rows, ordinal, nulls, 0.0, v -> (Double) v), bytes(nulls)));
    if (type instanceof StringType)
      return TColumn.stringVal(new TStringColumn(values(rows, ordinal, nulls, "", v -> (String) v), bytes(nulls)));
    if (type instanceof BinaryType)
      return TColumn.binaryVal(
          new TBinaryColumn(values(rows, ordinal, nulls, ByteBuffer.allocate(0), v -> ByteBuffer.wrap((byte[]) v)), bytes(nulls)));
    Function<Object, String> text = v -> HiveResult.toHiveString(new Tuple2<>(v, type), true, formatters, binary);
    return TColumn.stringVal(new TStringColumn(values(rows, ordinal, nulls, "", text), bytes(nulls)));
  }

  private static <T> List<T> values(List<Row> rows, int ordinal, BitSet nulls, T empty, Function<Object, T> convert) {
    List<T> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      if (row.isNullAt(ordinal)) {
        nulls.set(i);
        out.add(empty);
      } else {
        out.add(convert.apply(row.get(ordinal)));
      }
    }
    return out;
  }

  private static ByteBuffer bytes(BitSet nulls) {
    return ByteBuffer.wrap(nulls.toByteArray());
  }
}
