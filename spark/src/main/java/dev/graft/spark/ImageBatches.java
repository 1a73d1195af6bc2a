package dev.graft.spark;

import dev.graft.data.BadImageException;
import dev.graft.data.RgbImage;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The loop of a partition: rows of image paths (and optionally their bytes) in, batches of decoded images through a
 * model, one row out per row in. A file that cannot be read or decoded becomes a row with the reason in the error
 * column and nulls for the model's outputs; it never fails the task.
 */
final class ImageBatches {
    private ImageBatches() {
    }

    /** What a job does with the images: decode them as its model expects, then one output tuple per image. */
    interface Work extends AutoCloseable {
        RgbImage decode(byte[] bytes, String name) throws BadImageException;

        Object[][] apply(List<RgbImage> images);

        /** The partition is done with the model (it returns the executor's lease on it). */
        @Override
        default void close() {
        }
    }

    /** Which input columns are read and kept, and how many the model adds (the error column comes last). */
    record Layout(int pathIndex, int contentIndex, int[] kept, int outputs) implements Serializable {
        /** Output schema: the input's columns but the bytes, then the model's, then the error column. */
        static StructType schema(StructType input, String contentCol, List<StructField> outputs, String errorCol) {
            List<StructField> fields = new ArrayList<>();
            for (StructField f : input.fields()) {
                if (!f.name().equals(contentCol)) {
                    fields.add(f);
                }
            }
            for (StructField f : outputs) {
                if (Arrays.asList(input.fieldNames()).contains(f.name())) {
                    throw new IllegalArgumentException("the input already has a column '" + f.name() + "'; choose another output column name");
                }
                fields.add(f);
            }
            if (Arrays.asList(input.fieldNames()).contains(errorCol)) {
                throw new IllegalArgumentException("the input already has a column '" + errorCol + "'; choose another error column name");
            }
            fields.add(DataTypes.createStructField(errorCol, DataTypes.StringType, true));
            return DataTypes.createStructType(fields);
        }

        static Layout of(StructType input, String pathCol, String contentCol, int outputs) {
            List<String> names = Arrays.asList(input.fieldNames());
            if (!names.contains(pathCol)) {
                throw new IllegalArgumentException("the input has no path column '" + pathCol + "' (columns: " + String.join(", ", names)
                        + "); list images with spark.read().format(\"binaryFile\") or give a table with a path column");
            }
            if (!input.apply(pathCol).dataType().equals(DataTypes.StringType)) {
                throw new IllegalArgumentException("column '" + pathCol + "' must hold strings, not " + input.apply(pathCol).dataType().simpleString());
            }
            int content = names.indexOf(contentCol);
            if (content >= 0 && !input.apply(contentCol).dataType().equals(DataTypes.BinaryType)) {
                throw new IllegalArgumentException("column '" + contentCol + "' must hold bytes (binary), not "
                        + input.apply(contentCol).dataType().simpleString());
            }
            int[] kept = new int[names.size() - (content >= 0 ? 1 : 0)];
            int j = 0;
            for (int i = 0; i < names.size(); i++) {
                if (i != content) {
                    kept[j++] = i;
                }
            }
            return new Layout(names.indexOf(pathCol), content, kept, outputs);
        }
    }

    /** Lazily maps a partition's rows, {@code batchSize} images per forward pass; {@code work} is made on the first row. */
    static Iterator<Row> run(Iterator<Row> rows, Layout layout, int batchSize, Configuration conf, java.util.function.Function<long[], Work> work,
                             Metrics metrics) {
        return new Iterator<>() {
            private final List<Row> pending = new ArrayList<>();
            private Iterator<Row> out = java.util.Collections.emptyIterator();
            private Work model;
            private long started;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (started == 0) {
                    started = System.nanoTime();
                }
                while (!out.hasNext() && rows.hasNext()) {
                    out = nextBatch().iterator();
                }
                boolean more = out.hasNext();
                if (!more && !done) {
                    done = true;
                    if (metrics != null) {
                        metrics.taskNanos.add(System.nanoTime() - started);
                    }
                    release();
                }
                return more;
            }

            /** Returns the model's lease: at the partition's end, or when the task ends without reading it all. */
            private synchronized void release() {
                if (model != null) {
                    model.close();
                }
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return out.next();
            }

            private List<Row> nextBatch() {
                pending.clear();
                while (pending.size() < batchSize && rows.hasNext()) {
                    pending.add(rows.next());
                }
                if (model == null) {
                    long[] load = {0};
                    model = work.apply(load);
                    org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
                    if (task != null) {
                        task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> release());
                    }
                    if (metrics != null && load[0] > 0) {
                        metrics.loads.add(1);
                        metrics.loadNanos.add(load[0]);
                    }
                }
                long t0 = System.nanoTime();
                int n = pending.size();
                RgbImage[] images = new RgbImage[n];
                String[] errors = new String[n];
                List<RgbImage> ok = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    Row r = pending.get(i);
                    String path = r.isNullAt(layout.pathIndex()) ? null : r.getString(layout.pathIndex());
                    try {
                        byte[] bytes = layout.contentIndex() >= 0 && !r.isNullAt(layout.contentIndex())
                                ? (byte[]) r.get(layout.contentIndex()) : null;
                        if (bytes == null) {
                            if (path == null) {
                                throw new Hadoop.Unreadable("has no path and no content");
                            }
                            bytes = Hadoop.read(path, conf);
                        }
                        if (bytes.length == 0) {
                            throw new Hadoop.Unreadable("is empty (0 bytes)");
                        }
                        images[i] = model.decode(bytes, path == null ? "(no path)" : path);
                        ok.add(images[i]);
                    } catch (Hadoop.Unreadable e) {
                        errors[i] = e.getMessage();
                    } catch (BadImageException e) {
                        errors[i] = e.reason();
                    } catch (RuntimeException e) {
                        errors[i] = "cannot be decoded: " + e;
                    }
                }
                long t1 = System.nanoTime();
                Object[][] results = ok.isEmpty() ? new Object[0][] : model.apply(ok);
                long t2 = System.nanoTime();
                if (metrics != null) {
                    metrics.readNanos.add(t1 - t0);
                    metrics.forwardNanos.add(t2 - t1);
                    metrics.images.add(n);
                }
                List<Row> result = new ArrayList<>(n);
                int k = 0;
                for (int i = 0; i < n; i++) {
                    Row r = pending.get(i);
                    Object[] values = new Object[layout.kept().length + layout.outputs() + 1];
                    for (int c = 0; c < layout.kept().length; c++) {
                        values[c] = r.get(layout.kept()[c]);
                    }
                    if (images[i] != null) {
                        System.arraycopy(results[k++], 0, values, layout.kept().length, layout.outputs());
                    } else {
                        values[values.length - 1] = errors[i];
                        if (metrics != null) {
                            metrics.errors.add(1);
                        }
                    }
                    result.add(RowFactory.create(values));
                }
                return result;
            }
        };
    }
}
