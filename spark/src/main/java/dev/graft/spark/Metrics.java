package dev.graft.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;
import java.util.Locale;

/**
 * Where a scoring or features job spent its time, summed over tasks by Spark accumulators: model loading (once per
 * executor JVM), reading and decoding files, the network's forward passes; and the images done and failed.
 * Totals are task-seconds (they add up over concurrent tasks). Read them after the action that ran the job; a task
 * Spark retries counts twice.
 */
public final class Metrics implements Serializable {
    private static final long serialVersionUID = 1L;
    final LongAccumulator images;
    final LongAccumulator errors;
    final LongAccumulator loads;
    final LongAccumulator loadNanos;
    final LongAccumulator readNanos;
    final LongAccumulator forwardNanos;
    final LongAccumulator taskNanos;

    public Metrics(SparkContext sc, String what) {
        images = sc.longAccumulator("graft " + what + ": images");
        errors = sc.longAccumulator("graft " + what + ": bad images");
        loads = sc.longAccumulator("graft " + what + ": model loads");
        loadNanos = sc.longAccumulator("graft " + what + ": model loading ns");
        readNanos = sc.longAccumulator("graft " + what + ": read+decode ns");
        forwardNanos = sc.longAccumulator("graft " + what + ": forward ns");
        taskNanos = sc.longAccumulator("graft " + what + ": task ns");
    }

    public long images() {
        return images.value();
    }

    public long errors() {
        return errors.value();
    }

    public long modelLoads() {
        return loads.value();
    }

    public double loadSeconds() {
        return loadNanos.value() / 1e9;
    }

    public double readSeconds() {
        return readNanos.value() / 1e9;
    }

    public double forwardSeconds() {
        return forwardNanos.value() / 1e9;
    }

    /** Task time from the first row to the last, model loading included: the rest of it is Spark's (rows, output). */
    public double taskSeconds() {
        return taskNanos.value() / 1e9;
    }

    public String describe() {
        return String.format(Locale.ROOT, "%d image(s), %d bad; model loaded %d time(s), %.1f s; read+decode %.1f task-s, forward %.1f task-s, "
                + "the rest of the tasks (Spark: rows, output) %.1f task-s", images(), errors(), modelLoads(), loadSeconds(), readSeconds(),
                forwardSeconds(), Math.max(0, taskSeconds() - loadSeconds() - readSeconds() - forwardSeconds()));
    }
}
