package dev.graft.spark;

import dev.graft.data.ImageFolder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.util.stream.Stream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** Where the jobs' images come from: files under a Hadoop path or glob, or labelled images (class folders or a table). */
public final class ImageInput {
    private ImageInput() {
    }

    /** How labelled images are given. */
    public enum Labels {
        /** a CSV or Parquet table decides, else class folders */
        AUTO,
        /** ROOT/&lt;class&gt;/... (searched recursively), as graft train reads a training folder */
        FOLDERS,
        /** a CSV file (with a header) or folder with path,label columns */
        CSV,
        /** a Parquet file or folder with path,label columns */
        PARQUET;

        public static Labels parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("labels must be auto, folders, csv or parquet, not '" + s + "'");
            }
        }
    }

    /**
     * The image files under {@code input} (a file, a folder searched recursively, or a glob, on any file system
     * Hadoop reads), as rows with one column, {@code path}, in path order: only names with an image extension graft
     * reads (jpg, jpeg, png, bmp, gif, any case) and not hidden (a leading '.'), as {@code graft train} and
     * {@code predict} choose them; a file named on its own is taken whatever its name. The driver lists the files
     * (Spark's own file sources would drop empty ones silently); their bytes are read by the tasks, so that an
     * unreadable file is one error row.
     */
    public static Dataset<Row> list(SparkSession spark, String input) {
        List<String> files = files(input, spark.sparkContext().hadoopConfiguration());
        List<Row> rows = new ArrayList<>(files.size());
        for (String f : files) {
            rows.add(RowFactory.create(f));
        }
        return frame(spark, rows, DataTypes.createStructType(new StructField[] {DataTypes.createStructField("path", DataTypes.StringType, false)}));
    }

    /** The files {@link #list} lists, as fully qualified path strings ("file:/...", "hdfs://..."), sorted. */
    static List<String> files(String input, Configuration conf) {
        try {
            Path p = new Path(input);
            FileSystem fs = p.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(p);
            if (matches == null || matches.length == 0) {
                throw new IllegalArgumentException(input + (matches == null ? " does not exist" : " matches no file"));
            }
            boolean single = matches.length == 1 && matches[0].isFile() && !hasGlob(input);
            boolean local = "file".equals(fs.getScheme());
            List<String> out = new ArrayList<>();
            for (FileStatus m : matches) {
                if (!m.isDirectory()) {
                    if (single || isImage(m.getPath().getName())) {
                        out.add(m.getPath().toString());
                    }
                } else if (local) {
                    // java.nio: Hadoop's local listing forks a process per file for its permissions
                    try (Stream<java.nio.file.Path> w = Files.walk(Hadoop.localPath(m.getPath().toString()), FileVisitOption.FOLLOW_LINKS)) {
                        w.filter(f -> !Files.isDirectory(f) && isImage(f.getFileName().toString()))
                                .forEach(f -> out.add("file:" + f.toAbsolutePath()));
                    } catch (UncheckedIOException e) {
                        throw new UncheckedIOException(m.getPath() + " cannot be listed: " + e.getCause().getMessage(), e.getCause());
                    }
                } else {
                    RemoteIterator<LocatedFileStatus> it = fs.listFiles(m.getPath(), true);
                    while (it.hasNext()) {
                        Path f = it.next().getPath();
                        if (isImage(f.getName())) {
                            out.add(f.toString());
                        }
                    }
                }
            }
            Collections.sort(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(input + " cannot be listed: " + e.getMessage(), e);
        }
    }

    static boolean isImage(String name) {
        return !name.startsWith(".") && ImageFolder.hasImageExtension(java.nio.file.Path.of(name.replace('\0', '_')));
    }

    private static boolean hasGlob(String s) {
        return s.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** Rows spread over tasks: at least two per core, at most 256 images each. */
    static Dataset<Row> frame(SparkSession spark, List<Row> rows, StructType schema) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = (int) Math.max(1, Math.min(rows.size(), Math.max(2L * jsc.defaultParallelism(), (rows.size() + 255) / 256)));
        return spark.createDataFrame(jsc.parallelize(rows, slices), schema);
    }

    /**
     * Labelled images as rows of {@code path, label}: a table with those columns (CSV with a header, or Parquet;
     * paths absolute or URIs), or a folder with one sub-folder per class, each searched recursively, as
     * {@code graft train} reads one. A folder in the book's layout (ROOT/train and ROOT/test) means ROOT/train.
     */
    public static Dataset<Row> labelled(SparkSession spark, String input, Labels how, Consumer<String> log) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Labels kind = how == Labels.AUTO ? detect(input, conf) : how;
        switch (kind) {
            case CSV -> {
                return table(spark.read().option("header", "true").csv(input), input);
            }
            case PARQUET -> {
                return table(spark.read().parquet(input), input);
            }
            default -> {
                String root = input;
                if (Hadoop.isDirectory(join(input, "train"), conf) && Hadoop.isDirectory(join(input, "test"), conf)) {
                    root = join(input, "train");
                    log.accept(input + " is in the book's layout (train/, test/): using " + root);
                }
                if (!Hadoop.isDirectory(root, conf)) {
                    throw new IllegalArgumentException(root + " is not a folder of class folders (nor a .csv or .parquet table of path,label)");
                }
                String prefix = Hadoop.qualified(root, conf);
                String p = prefix.endsWith("/") ? prefix : prefix + "/";
                List<Row> rows = new ArrayList<>();
                int outside = 0;
                for (String f : files(prefix, conf)) {
                    String rel = f.startsWith(p) ? f.substring(p.length()) : null;
                    int slash = rel == null ? -1 : rel.indexOf('/');
                    if (slash <= 0 || rel.startsWith(".")) {
                        outside++;
                        continue;
                    }
                    rows.add(RowFactory.create(f, rel.substring(0, slash)));
                }
                if (outside > 0) {
                    log.accept("ignored " + outside + " image(s) not inside a class folder of " + root);
                }
                return frame(spark, rows, DataTypes.createStructType(new StructField[] {
                    DataTypes.createStructField("path", DataTypes.StringType, false),
                    DataTypes.createStructField("label", DataTypes.StringType, false)}));
            }
        }
    }

    private static Dataset<Row> table(Dataset<Row> t, String input) {
        for (String c : new String[] {"path", "label"}) {
            if (!Arrays.asList(t.columns()).contains(c)) {
                throw new IllegalArgumentException(input + " has no '" + c + "' column (columns: " + String.join(", ", t.columns())
                        + "); a table of labelled images needs path,label");
            }
        }
        return t.select(functions.col("path").cast("string"), functions.col("label").cast("string"));
    }

    static Labels detect(String input, Configuration conf) {
        String lower = input.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
        if (lower.endsWith(".csv")) {
            return Labels.CSV;
        }
        if (lower.endsWith(".parquet") || Hadoop.exists(join(input, "_SUCCESS"), conf) && !Hadoop.isDirectory(join(input, "train"), conf)) {
            return Labels.PARQUET;
        }
        return Labels.FOLDERS;
    }

    static String join(String dir, String name) {
        return (dir.endsWith("/") ? dir : dir + "/") + name;
    }
}
