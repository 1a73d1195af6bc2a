package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a run trains on, saved in its checkpoint so a resume can tell when it changed: the classes in label order,
 * every training and validation image (path relative to the training folder, and size), and the recipe.
 */
final class RunIdentity {
    private RunIdentity() {
    }

    static ObjectNode of(DataSplits data, Recipe recipe) {
        ObjectNode n = Json.object();
        n.set("classes", Json.tree(data.classes()));
        ArrayNode files = n.putArray("train_files");
        for (ImageFolder f : data.validation() == null ? List.of(data.train()) : List.of(data.train(), data.validation())) {
            for (ImageFolder.Sample s : f.samples()) {
                long size;
                try {
                    size = Files.size(s.path());
                } catch (IOException e) {
                    size = -1;
                }
                files.add(f.dir().relativize(s.path()) + "\t" + size);
            }
        }
        n.set("recipe", Json.tree(recipe));
        return n;
    }

    /**
     * What differs between the identity a checkpoint saved and the run's now, as sentences a user can act on:
     * classes renamed, added or removed (label order matters), images added, removed or changed, recipe fields.
     */
    static List<String> differences(JsonNode saved, JsonNode current) {
        List<String> out = new ArrayList<>();
        // as the checkpoint stores it (JSON text), so numbers compare by value whatever their Java type was
        JsonNode now;
        try {
            now = Json.MAPPER.readTree(Json.compact(current));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (saved == null || !saved.has("classes")) {
            return out; // a checkpoint from before graft saved its identity
        }
        List<String> was = strings(saved.path("classes"));
        List<String> is = strings(now.path("classes"));
        if (!was.equals(is)) {
            List<String> gone = new ArrayList<>(was);
            gone.removeAll(is);
            List<String> added = new ArrayList<>(is);
            added.removeAll(was);
            StringBuilder sb = new StringBuilder("the classes changed: were " + was + ", are " + is);
            if (!gone.isEmpty() && !added.isEmpty() && gone.size() == added.size()) {
                sb.append(" (renamed: ").append(gone).append(" -> ").append(added).append("; labels follow the sorted names)");
            } else {
                if (!added.isEmpty()) {
                    sb.append(" (added ").append(added).append(")");
                }
                if (!gone.isEmpty()) {
                    sb.append(" (removed ").append(gone).append(")");
                }
                if (added.isEmpty() && gone.isEmpty()) {
                    sb.append(" (reordered)");
                }
            }
            out.add(sb.toString());
        }
        Map<String, String> before = files(saved.path("train_files"));
        Map<String, String> after = files(now.path("train_files"));
        int added = 0;
        int removed = 0;
        int changed = 0;
        for (var e : after.entrySet()) {
            String old = before.get(e.getKey());
            if (old == null) {
                added++;
            } else if (!old.equals(e.getValue())) {
                changed++;
            }
        }
        for (String k : before.keySet()) {
            if (!after.containsKey(k)) {
                removed++;
            }
        }
        if (added + removed + changed > 0 && was.equals(is)) {
            out.add(String.format(Locale.ROOT, "the training images changed: %d added, %d removed, %d changed in size", added, removed, changed));
        }
        // a checkpoint written before recipes were nested compares as the recipe it describes
        JsonNode r0;
        try {
            r0 = saved.path("recipe").isObject() ? Json.MAPPER.readTree(Json.compact(Recipe.read(saved.path("recipe")))) : saved.path("recipe");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        JsonNode r1 = now.path("recipe");
        List<String> fields = new ArrayList<>();
        r1.fieldNames().forEachRemaining(k -> {
            if (!r0.path(k).equals(r1.path(k))) {
                fields.add(k + " " + r0.path(k) + " -> " + r1.path(k));
            }
        });
        if (!fields.isEmpty()) {
            out.add("the recipe changed: " + String.join(", ", fields));
        }
        return out;
    }

    private static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> files(JsonNode arr) {
        Map<String, String> out = new HashMap<>();
        arr.forEach(n -> {
            String[] p = n.asText().split("\t", 2);
            out.put(p[0], p.length > 1 ? p[1] : "");
        });
        return out;
    }
}
