package dev.graft.spark;

import dev.graft.data.DataException;
import dev.graft.weights.WeightsException;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What the three jobs share: the session, output formats, messages and exit codes. */
final class Jobs {
    private Jobs() {
    }

    /** Output file formats. */
    enum Format {
        PARQUET, CSV;

        static Format parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "parquet" -> PARQUET;
                case "csv" -> CSV;
                default -> throw new IllegalArgumentException("--format must be parquet or csv, not '" + s + "'");
            };
        }
    }

    /** A session and whether this job made it (then it stops it). */
    record Session(SparkSession spark, boolean own) implements AutoCloseable {
        @Override
        public void close() {
            if (own) {
                spark.stop();
            }
        }
    }

    /**
     * The running session (a test, a notebook) or a new one from spark-submit's settings; without a master
     * (plain {@code java -cp}) local[*].
     */
    static Session session(String app) {
        SparkSession active = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        if (active != null) {
            return new Session(active, false);
        }
        SparkSession.Builder b = SparkSession.builder().appName(app);
        if (!new SparkConf().contains("spark.master")) {
            b = b.master("local[*]");
        }
        return new Session(b.getOrCreate(), true);
    }

    /** Arrays and structs as strings for CSV: arrays of numbers or strings space-separated, the rest as JSON. */
    static Dataset<Row> flatten(Dataset<Row> df) {
        List<Column> cols = new ArrayList<>();
        for (StructField f : df.schema().fields()) {
            Column c = functions.col(f.name());
            if (f.dataType() instanceof ArrayType a && !(a.elementType() instanceof StructType) && !(a.elementType() instanceof ArrayType)
                    && !(a.elementType() instanceof MapType)) {
                c = functions.concat_ws(" ", c.cast(DataTypes.createArrayType(DataTypes.StringType)));
                c = functions.when(functions.col(f.name()).isNull(), functions.lit(null).cast("string")).otherwise(c);
            } else if (f.dataType() instanceof ArrayType || f.dataType() instanceof StructType || f.dataType() instanceof MapType) {
                c = functions.to_json(c);
            }
            cols.add(c.as(f.name()));
        }
        return df.select(cols.toArray(new Column[0]));
    }

    static void write(Dataset<Row> df, String output, Format format, boolean overwrite) {
        SaveMode mode = overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
        if (format == Format.CSV) {
            // RFC 4180 quoting (a quote inside a field doubled), as other tools read CSV; Spark's default escapes with '\\'
            flatten(df).write().mode(mode).option("header", "true").option("escape", "\"").csv(output);
        } else {
            df.write().mode(mode).parquet(output);
        }
    }

    static void say(String line) {
        System.err.println("graft-spark: " + line);
    }

    /** Runs a job command line: 0 on success, 1 with a one-line message for the user's mistakes, 2 for bad usage. */
    static int execute(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            Throwable t = e;
            while (t.getCause() != null && (t instanceof UncheckedIOException || t.getClass() == RuntimeException.class)) {
                t = t.getCause();
            }
            PrintWriter err = line.getErr();
            boolean user = t instanceof IllegalArgumentException || t instanceof DataException || t instanceof WeightsException
                    || t instanceof java.io.IOException || t.getClass().getName().equals("org.apache.spark.sql.AnalysisException")
                    || t.getClass().getName().equals("org.apache.spark.sql.catalyst.ExtendedAnalysisException");
            err.println("graft-spark: error: " + (t.getMessage() == null ? t.toString() : t.getMessage()));
            if (!user) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return cl.execute(args);
    }

    /** {@link #execute}, exiting the JVM only on failure (spark-submit's cluster mode reports success itself). */
    static void main(Object command, String... args) {
        int code = execute(command, args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
