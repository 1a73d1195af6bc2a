package dev.graft.weights;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a PyTorch state_dict saved by {@code torch.save} (the zip format of torch >= 1.6): {@code <top>/data.pkl}
 * holds the pickled dict and {@code <top>/data/<key>} the raw storages. The pickle goes through
 * {@link SafeUnpickler} with an allowlist of exactly the globals needed to rebuild tensors.
 */
public final class PthReader {
    private static final int MAX_PICKLE_BYTES = 64 << 20;

    private PthReader() {
    }

    /** Storage class names torch writes in persistent ids, with their element types. */
    private static final Map<String, DType> STORAGE_TYPES = Map.ofEntries(
            Map.entry("FloatStorage", DType.F32), Map.entry("DoubleStorage", DType.F64),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    /** The Python object for a storage class: only ever referenced, never called. */
    record StorageType(DType dtype) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            throw new PickleException("storage classes cannot be called in a state_dict pickle");
        }
    }

    /** A storage resolved from a persistent id: its element type and raw bytes. */
    record Storage(String key, DType dtype, ByteBuffer bytes) {
        long numel() {
            return bytes.remaining() / dtype.bytes();
        }
    }

    /** {@code collections.OrderedDict}, including the {@code _metadata} attribute torch attaches. */
    static final class PyOrderedDict extends LinkedHashMap<Object, Object> implements SafeUnpickler.Stateful {
        @Override
        public void setState(Object state) {
            // torch stores module versions in _metadata; graft has no use for them
        }
    }

    public static StateDict read(Path file) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new WeightsException(name, Files.exists(file) ? "is not a regular file" : "does not exist");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return read(zip, name);
        } catch (ZipException e) {
            throw new WeightsException(name, notZipMessage(file), e);
        } catch (IOException e) {
            throw new WeightsException(name, "cannot be read: " + e.getMessage(), e);
        }
    }

    private static String notZipMessage(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            if (head.length == 2 && (head[0] & 0xff) == 0x80) {
                return "is a legacy (pre-1.6, non-zip) torch file; re-save it with a newer torch: "
                        + "torch.save(torch.load(path), path, _use_new_zipfile_serialization=True)";
            }
        } catch (IOException ignored) {
            // fall through to the generic message
        }
        return "is not a torch zip archive (truncated or not a .pth file)";
    }

    private static StateDict read(ZipFile zip, String name) throws IOException {
        ZipEntry pkl = null;
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            ZipEntry e = entries.nextElement();
            if (e.getName().endsWith("data.pkl") && e.getName().chars().filter(c -> c == '/').count() == 1) {
                if (pkl != null) {
                    throw new WeightsException(name, "holds more than one data.pkl");
                }
                pkl = e;
            }
        }
        if (pkl == null) {
            throw new WeightsException(name, "is a zip file but not in torch's layout (no <top>/data.pkl entry)");
        }
        String top = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
        ZipEntry order = zip.getEntry(top + "byteorder");
        if (order != null) {
            String bo = new String(readEntry(zip, order, name, 64), StandardCharsets.US_ASCII).trim();
            if (!bo.equals("little")) {
                throw new WeightsException(name, "was saved with byte order '" + bo + "'; only little-endian is supported");
            }
        }
        byte[] pickle = readEntry(zip, pkl, name, MAX_PICKLE_BYTES);
        Map<String, Storage> storages = new HashMap<>();
        SafeUnpickler unpickler = new SafeUnpickler(pickle, allowlist(), pid -> storage(zip, top, pid, storages, name));
        Object root;
        try {
            root = unpickler.load();
        } catch (SafeUnpickler.ForbiddenGlobalException e) {
            throw new WeightsException(name, e.getMessage(), e);
        } catch (PickleException | IOException e) {
            throw new WeightsException(name, "has a data.pkl that cannot be read: " + e.getMessage(), e);
        } catch (WeightsException e) {
            throw e;
        }
        if (root instanceof Map<?, ?> m && m.containsKey("state_dict") && m.get("state_dict") instanceof Map<?, ?> inner) {
            root = inner; // a training checkpoint {"state_dict": ..., ...}
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new WeightsException(name, "does not hold a state_dict (a dict of tensors) but a "
                    + (root == null ? "None" : root.getClass().getSimpleName()));
        }
        StateDict sd = new StateDict(name);
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new WeightsException(name, "has a non-string key in its state_dict: " + e.getKey());
            }
            if (!(e.getValue() instanceof TensorData t)) {
                throw new WeightsException(name, "entry '" + key + "' is not a tensor");
            }
            sd.put(key, t);
        }
        return sd;
    }

    private static Map<String, IObjectConstructor> allowlist() {
        Map<String, IObjectConstructor> allowed = new HashMap<>();
        allowed.put("collections.OrderedDict", args -> new PyOrderedDict());
        allowed.put("torch._utils._rebuild_tensor_v2", PthReader::rebuildTensor);
        allowed.put("torch._utils._rebuild_tensor", PthReader::rebuildTensor);
        allowed.put("torch._utils._rebuild_parameter", args -> {
            if (args.length < 1 || !(args[0] instanceof TensorData)) {
                throw new PickleException("_rebuild_parameter expects a tensor");
            }
            return args[0];
        });
        for (Map.Entry<String, DType> e : STORAGE_TYPES.entrySet()) {
            allowed.put("torch." + e.getKey(), new StorageType(e.getValue()));
        }
        return allowed;
    }

    private static Object storage(ZipFile zip, String top, Object pid, Map<String, Storage> cache, String name) {
        if (!(pid instanceof Object[] t) || t.length < 5 || !"storage".equals(t[0])) {
            throw new PickleException("unexpected persistent id " + describe(pid));
        }
        if (!(t[1] instanceof StorageType type)) {
            throw new PickleException("persistent id names an unknown storage type");
        }
        String key = String.valueOf(t[2]);
        Storage s = cache.get(key);
        if (s != null) {
            return s;
        }
        if (!key.matches("[0-9A-Za-z_]+")) {
            throw new PickleException("storage key '" + key + "' is not a plain name");
        }
        ZipEntry entry = zip.getEntry(top + "data/" + key);
        if (entry == null) {
            throw new WeightsException(name, "refers to storage '" + key + "' but the archive has no " + top + "data/" + key);
        }
        long numel = toLong(t[4], "storage size");
        long expected = numel * type.dtype().bytes();
        try {
            byte[] raw = readEntry(zip, entry, name, Integer.MAX_VALUE - 16);
            if (raw.length < expected) {
                throw new WeightsException(name, "storage '" + key + "' holds " + raw.length + " bytes but "
                        + expected + " are declared (truncated file?)");
            }
            s = new Storage(key, type.dtype(), ByteBuffer.wrap(raw, 0, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN));
        } catch (IOException e) {
            throw new WeightsException(name, "storage '" + key + "' cannot be read: " + e.getMessage(), e);
        }
        cache.put(key, s);
        return s;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof Storage s)) {
            throw new PickleException("_rebuild_tensor expects (storage, offset, size, stride, ...)");
        }
        long offset = toLong(args[1], "storage offset");
        long[] size = toLongs(args[2], "size");
        long[] stride = toLongs(args[3], "stride");
        if (size.length != stride.length) {
            throw new PickleException("size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
        }
        long numel = TensorData.numel(size);
        int eb = s.dtype().bytes();
        if (numel == 0) {
            return new TensorData(s.dtype(), size, ByteBuffer.allocate(0));
        }
        long last = offset;
        for (int i = 0; i < size.length; i++) {
            if (stride[i] < 0) {
                throw new PickleException("negative stride in " + Arrays.toString(stride));
            }
            last += (size[i] - 1) * stride[i];
        }
        if (offset < 0 || last >= s.numel()) {
            throw new PickleException("tensor of size " + Arrays.toString(size) + " at offset " + offset
                    + " runs past its storage of " + s.numel() + " elements");
        }
        long[] contiguous = TensorData.strides(size);
        if (Arrays.equals(contiguous, stride) || numel == 1) {
            ByteBuffer b = s.bytes().duplicate();
            b.position((int) (offset * eb)).limit((int) ((offset + numel) * eb));
            return new TensorData(s.dtype(), size, b.slice());
        }
        // a strided view: gather it into C order
        ByteBuffer out = ByteBuffer.allocate((int) (numel * eb));
        int[] idx = new int[size.length];
        for (long n = 0; n < numel; n++) {
            long src = offset;
            for (int i = 0; i < size.length; i++) {
                src += idx[i] * stride[i];
            }
            for (int k = 0; k < eb; k++) {
                out.put(s.bytes().get((int) (src * eb + k)));
            }
            for (int i = size.length - 1; i >= 0; i--) {
                if (++idx[i] < size[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        out.flip();
        return new TensorData(s.dtype(), size, out);
    }

    private static long toLong(Object o, String what) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw new PickleException(what + " is not an integer: " + describe(o));
    }

    private static long[] toLongs(Object o, String what) {
        if (!(o instanceof Object[] arr)) {
            throw new PickleException(what + " is not a tuple: " + describe(o));
        }
        long[] out = new long[arr.length];
        for (int i = 0; i < arr.length; i++) {
            out[i] = toLong(arr[i], what);
            if (out[i] < 0) {
                throw new PickleException(what + " has a negative entry");
            }
        }
        return out;
    }

    private static String describe(Object o) {
        return o instanceof Object[] a ? Arrays.deepToString(a) : String.valueOf(o);
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry e, String name, int max) throws IOException {
        if (e.getSize() > max) {
            throw new WeightsException(name, "entry " + e.getName() + " is too large (" + e.getSize() + " bytes)");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(max);
            if (in.read() != -1) {
                throw new WeightsException(name, "entry " + e.getName() + " is larger than " + max + " bytes");
            }
            return b;
        }
    }
}
