package dev.graft.weights;

import dev.graft.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PthReaderTest {

    @Test
    void readsTorchvisionStateDictWithKeysShapesAndDtypesInOrder() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        List<String> lines = Files.readAllLines(Shared.path("fixtures/torchvision/resnet18_seed0_keys.txt"));
        assertEquals(122, sd.size());
        List<String> names = new ArrayList<>(sd.names());
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).split("\t");
            assertEquals(f[0], names.get(i), "key order at " + i);
            TensorData t = sd.get(f[0]);
            assertEquals(f[1].replace(" ", ""), Arrays.toString(t.shape()).replace(" ", ""), f[0]);
            assertEquals(f[2].equals("float32") ? DType.F32 : DType.I64, t.dtype(), f[0]);
        }
        assertEquals(11_699_132L, sd.numel());
    }

    @Test
    void refusesMaliciousPickleNamingTheGlobalAndExecutesNothing() throws Exception {
        Path pwned = Path.of("/tmp/graft-pwned");
        Files.deleteIfExists(pwned);
        WeightsException e = assertThrows(WeightsException.class,
                () -> PthReader.read(Shared.path("fixtures/torchvision/malicious.pth")));
        assertTrue(e.getMessage().contains("os.system"), e.getMessage());
        assertTrue(e.getMessage().contains("malicious.pth"), e.getMessage());
        assertFalse(Files.exists(pwned), "the payload must never run");
    }

    @Test
    void notAZipIsAClearError() throws Exception {
        Path f = Files.createTempFile("graft", ".pth");
        Files.writeString(f, "hello, not a checkpoint");
        WeightsException e = assertThrows(WeightsException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not a torch zip"), e.getMessage());
    }
}
