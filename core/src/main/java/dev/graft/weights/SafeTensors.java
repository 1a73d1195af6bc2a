package dev.graft.weights;

import dev.graft.util.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header of {name: {dtype, shape, data_offsets}} plus optional {@code __metadata__}, then raw data.
 * Every offset is checked against the file before any tensor is read.
 */
public final class SafeTensors {
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {
    }

    public static StateDict read(Path file) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new WeightsException(name, Files.exists(file) ? "is not a regular file" : "does not exist");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                return parse(mapped, name);
            }
            ByteBuffer all = ByteBuffer.allocate((int) size);
            while (all.hasRemaining() && ch.read(all) >= 0) {
                // read fully
            }
            all.flip();
            return parse(all, name);
        } catch (IOException e) {
            throw new WeightsException(name, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Parses a whole safetensors file held in memory. */
    public static StateDict parse(ByteBuffer file, String name) {
        ByteBuffer buf = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long total = buf.remaining();
        if (total < 8) {
            throw new WeightsException(name, "is too short to be safetensors (" + total + " bytes, need at least 8)");
        }
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER || n > total - 8) {
            throw new WeightsException(name, "declares a header of " + Long.toUnsignedString(n)
                    + " bytes but the file has only " + (total - 8) + " bytes after the length field");
        }
        byte[] headerBytes = new byte[(int) n];
        buf.position(8);
        buf.get(headerBytes);
        JsonNode header;
        try {
            header = Json.MAPPER.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new WeightsException(name, "has a header that is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new WeightsException(name, "has a header that is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLen = total - dataStart;
        StateDict sd = new StateDict(name);
        record Span(String key, long begin, long end) {
        }
        List<Span> spans = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = header.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (key.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new WeightsException(name, "__metadata__ is not an object");
                }
                v.fields().forEachRemaining(m -> sd.metadata().put(m.getKey(), m.getValue().asText()));
                continue;
            }
            if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
                    || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
                throw new WeightsException(name, "tensor '" + key + "' needs dtype, shape and two data_offsets");
            }
            DType dtype;
            try {
                dtype = DType.fromSafetensors(v.get("dtype").asText());
            } catch (IllegalArgumentException ex) {
                throw new WeightsException(name, "tensor '" + key + "' has " + ex.getMessage());
            }
            long[] shape = new long[v.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = v.get("shape").get(i);
                if (!d.canConvertToLong() || d.asLong() < 0) {
                    throw new WeightsException(name, "tensor '" + key + "' has an invalid shape " + v.get("shape"));
                }
                shape[i] = d.asLong();
            }
            JsonNode off = v.get("data_offsets");
            if (!off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
                throw new WeightsException(name, "tensor '" + key + "' has non-integer data_offsets " + off);
            }
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            if (begin < 0 || end < begin || end > dataLen) {
                throw new WeightsException(name, "tensor '" + key + "' has data_offsets [" + begin + ", " + end
                        + "] outside the data section of " + dataLen + " bytes");
            }
            long numel;
            try {
                numel = TensorData.numel(shape);
                if (Math.multiplyExact(numel, dtype.bytes()) != end - begin) {
                    throw new WeightsException(name, "tensor '" + key + "' of shape " + v.get("shape") + " and dtype "
                            + dtype + " needs " + numel * dtype.bytes() + " bytes but its offsets span " + (end - begin));
                }
            } catch (ArithmeticException ex) {
                throw new WeightsException(name, "tensor '" + key + "' has a shape too large to exist: " + v.get("shape"));
            }
            spans.add(new Span(key, begin, end));
            ByteBuffer slice = buf.duplicate();
            slice.limit((int) (dataStart + end)).position((int) (dataStart + begin));
            sd.put(key, new TensorData(dtype, shape, slice.slice()));
        }
        spans.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        long cursor = 0;
        for (Span s : spans) {
            if (s.begin() < cursor) {
                throw new WeightsException(name, "tensor '" + s.key() + "' overlaps another tensor's data (offset "
                        + s.begin() + " < " + cursor + ")");
            }
            if (s.begin() > cursor) {
                throw new WeightsException(name, "has a gap in its data section before tensor '" + s.key() + "'");
            }
            cursor = s.end();
        }
        if (cursor != dataLen) {
            throw new WeightsException(name, "has " + (dataLen - cursor) + " trailing bytes not covered by any tensor");
        }
        return sd;
    }

    public static void write(StateDict sd, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            write(sd, out);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static void write(StateDict sd, OutputStream out) throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        if (!sd.metadata().isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            sd.metadata().forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : sd.tensors().entrySet()) {
            TensorData t = e.getValue();
            ObjectNode node = header.putObject(e.getKey());
            node.put("dtype", t.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long len = t.numel() * t.dtype().bytes();
            node.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = Json.compact(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        out.write(head.array());
        for (TensorData t : sd.tensors().values()) {
            ByteBuffer b = t.bytes();
            byte[] chunk = new byte[Math.min(b.remaining(), 1 << 20)];
            while (b.hasRemaining()) {
                int len = Math.min(chunk.length, b.remaining());
                b.get(chunk, 0, len);
                out.write(chunk, 0, len);
            }
        }
    }
}
