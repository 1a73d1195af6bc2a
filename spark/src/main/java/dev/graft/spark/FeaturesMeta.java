package dev.graft.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.Preprocessing;
import dev.graft.train.Bundle;
import dev.graft.train.Version;
import dev.graft.util.Json;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * What a features column holds: the backbone that computed it (the model's name, the weights as given and their
 * SHA-256), the feature dimension, the preprocessing and precision. Kept as JSON under the key {@value #KEY} of the
 * column's Spark metadata, which Parquet files keep in their schema, and in the side file {@value #SIDE_FILE}
 * next to the part files (for CSV, and for readers other than Spark).
 */
public record FeaturesMeta(String model, String weights, String weightsSha256, int dim, Preprocessing preprocessing,
                           String precision) {
    public static final String FORMAT = "graft-features-1";
    /** The metadata key of the features column. */
    public static final String KEY = "graft";
    /** Written next to the output's part files (Spark's readers skip names starting with '_'). */
    public static final String SIDE_FILE = "_graft_features.json";

    public String toJson() {
        ObjectNode n = Json.object();
        n.put("format", FORMAT);
        n.put("graft_version", Version.VERSION);
        n.put("model", model);
        n.put("weights", weights);
        n.put("weights_sha256", weightsSha256);
        n.put("feature_dim", dim);
        n.set("preprocessing", Bundle.preprocessingJson(preprocessing));
        n.put("precision", precision);
        return Json.compact(n);
    }

    public static FeaturesMeta fromJson(String json, String where) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(where + ": graft features metadata is not JSON: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new IllegalArgumentException(where + ": metadata is not " + FORMAT + " (found format '" + n.path("format").asText() + "')");
        }
        return new FeaturesMeta(n.path("model").asText(), n.path("weights").asText(),
                n.hasNonNull("weights_sha256") ? n.path("weights_sha256").asText() : null, n.path("feature_dim").asInt(),
                Bundle.preprocessing(n.path("preprocessing")), n.path("precision").asText());
    }

    public Metadata toMetadata() {
        return new MetadataBuilder().putString(KEY, toJson()).build();
    }

    /** The metadata of {@code column} in {@code schema}, or null when it carries none. */
    public static FeaturesMeta of(StructType schema, String column, String where) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(where + " has no column '" + column + "' (columns: " + String.join(", ", schema.fieldNames()) + ")");
        }
        StructField f = schema.apply(column);
        return f.metadata().contains(KEY) ? fromJson(f.metadata().getString(KEY), where) : null;
    }

    public String describe() {
        return model + " from " + weights + ", " + dim + " features, " + preprocessing.describe() + ", " + precision;
    }
}
