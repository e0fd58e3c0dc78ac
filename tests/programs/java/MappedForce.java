// Maps two files, writes to both and forces each mapping to disk; prints
// "NAME: ok" or "NAME: " and the exception's class per file. MappedByteBuffer.force() is
// msync(2), so fi can fail it for one mapped file.
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

public class MappedForce {
    public static void main(String[] args) throws Exception {
        for (String name : args) {
            try (RandomAccessFile file = new RandomAccessFile(name, "rw")) {
                MappedByteBuffer map = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 4096);
                map.put(0, (byte) 'x');
                try {
                    map.force();
                    System.out.println(name + ": ok");
                } catch (Exception e) {
                    System.out.println(name + ": " + e.getClass().getSimpleName());
                }
            }
        }
    }
}
