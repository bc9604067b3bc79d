// Image folders as torchvision's ImageFolder reads them: ROOT/train/<class>/**/*.jpg|jpeg|png and
// ROOT/val/<class>/... . Classes are the sub-folders of the split (symbolic links followed), in
// byte order (Python's sorted() on the names); labels are their positions. Within a class, files
// come in the order of sorted(os.walk(class folder)) and then sorted file names, so example i is
// the same image as torchvision's dataset.samples[i]. File names are matched case-insensitively
// on .jpg, .jpeg and .png; other files are left out (image files of the formats lowbit cannot
// decode, .bmp .ppm .pgm .tif .tiff .webp, are counted in `unsupported`, which torchvision would
// have listed). A split without class folders, or a class folder without images, is refused
// naming the folder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data/image_source.h"
#include "core/export.h"

namespace lowbit::data {

struct ImageFolderIndex {
  std::string dir;                       // the split folder
  std::vector<std::string> classes;      // sorted
  std::vector<std::string> paths;        // every image, in torchvision's order
  std::vector<int32_t> labels;           // per image
  std::vector<std::string> unsupported;  // image files of other formats, left out
};

// True for names ending in .jpg, .jpeg or .png, in any letter case.
LOWBIT_API bool is_decodable_image_name(const std::string& name);

// ROOT/train or ROOT/val.
LOWBIT_API std::string image_folder_split(const std::string& root, bool train);

// Lists one split folder. Throws lowbit::Error naming the folder when it is missing, has no class
// folders, or a class folder holds no image.
LOWBIT_API ImageFolderIndex scan_image_folder(const std::string& split_dir);

// The split's images decoded from their files (image_decode.h).
class LOWBIT_API FolderSource : public ImageSource {
 public:
  explicit FolderSource(ImageFolderIndex index) : index_(std::move(index)) {}
  int64_t size() const override { return static_cast<int64_t>(index_.paths.size()); }
  const std::vector<std::string>& classes() const override { return index_.classes; }
  int32_t label(int64_t i) const override { return index_.labels[static_cast<size_t>(i)]; }
  std::string name(int64_t i) const override { return index_.paths[static_cast<size_t>(i)]; }
  Image load(int64_t i) const override { return read_image(name(i)); }
  std::string description() const override { return "image folder " + index_.dir; }
  const ImageFolderIndex& index() const { return index_; }

 private:
  ImageFolderIndex index_;
};

}  // namespace lowbit::data
