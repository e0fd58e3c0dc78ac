// Writes a record through a mapping and forces it to disk, ignoring a
// failed force(): prints "saved" whatever happened.
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

public class ForceIgnored {
    public static void main(String[] args) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile("record.dat", "rw")) {
            MappedByteBuffer map = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 4096);
            map.put(0, (byte) 'x');
            try {
                map.force();
            } catch (Exception e) {
                // ignored
            }
        }
        System.out.println("saved");
    }
}
