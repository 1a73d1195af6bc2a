package dev.graft.weights;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An ordered map from parameter name to tensor: the seam where every weight format meets every architecture.
 * Readers and writers know formats, not models; architectures know names, not files.
 */
public final class StateDict {
    private final LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
    private final String source;

    public StateDict(String source) {
        this.source = source;
    }

    /** Where the tensors came from (a file path or a description), used in error messages. */
    public String source() {
        return source;
    }

    public void put(String name, TensorData t) {
        tensors.put(name, t);
    }

    public TensorData get(String name) {
        return tensors.get(name);
    }

    public TensorData require(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new WeightsException(source, "has no tensor named '" + name + "'");
        }
        return t;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorData remove(String name) {
        return tensors.remove(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, TensorData> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public int size() {
        return tensors.size();
    }

    public long numel() {
        long n = 0;
        for (TensorData t : tensors.values()) {
            n += t.numel();
        }
        return n;
    }
}
