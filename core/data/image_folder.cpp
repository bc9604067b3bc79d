// Image-folder scanning in torchvision's order (see image_folder.h).
#include "core/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>

#include "core/error.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;

std::string lower_extension(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return "";
  std::string ext = name.substr(dot);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext;
}

bool is_other_image_name(const std::string& name) {
  const std::string ext = lower_extension(name);
  for (const char* e : {".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"})
    if (ext == e) return true;
  return false;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);  // follows symbolic links
}

// Every folder under `dir` (itself included, links followed) with its sorted non-folder entries,
// sorted by the folder's path string: Python's sorted(os.walk(dir, followlinks=True)).
std::vector<std::pair<std::string, std::vector<std::string>>> walk(const std::string& dir) {
  std::vector<std::pair<std::string, std::vector<std::string>>> folders;
  std::vector<std::string> pending = {dir};
  while (!pending.empty()) {
    const std::string d = pending.back();
    pending.pop_back();
    std::vector<std::string> files;
    std::error_code ec;
    fs::directory_iterator it(d, ec), end;
    LOWBIT_CHECK(!ec, d, ": cannot list the folder: ", ec.message());
    for (; it != end; it.increment(ec)) {
      LOWBIT_CHECK(!ec, d, ": cannot list the folder: ", ec.message());
      const std::string name = it->path().filename().string();
      const std::string full = d + "/" + name;
      if (is_dir(full))
        pending.push_back(full);
      else
        files.push_back(name);
    }
    LOWBIT_CHECK(!ec, d, ": cannot list the folder: ", ec.message());
    std::sort(files.begin(), files.end());
    folders.emplace_back(d, std::move(files));
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

}  // namespace

bool is_decodable_image_name(const std::string& name) {
  const std::string ext = lower_extension(name);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::string image_folder_split(const std::string& root, bool train) {
  return (fs::path(root) / (train ? "train" : "val")).string();
}

ImageFolderIndex scan_image_folder(const std::string& given_dir) {
  std::string split_dir = given_dir;  // without trailing slashes, so paths read ROOT/train/<class>/...
  while (split_dir.size() > 1 && split_dir.back() == '/') split_dir.pop_back();
  ImageFolderIndex index;
  index.dir = split_dir;
  LOWBIT_CHECK(is_dir(split_dir), "image folder ", split_dir,
               ": not a folder (expected ROOT/train/<class>/*.jpg and ROOT/val/<class>/*.jpg, as torchvision's "
               "ImageFolder reads them)");
  std::error_code ec;
  for (fs::directory_iterator it(split_dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_dir(it->path())) index.classes.push_back(it->path().filename().string());
  LOWBIT_CHECK(!ec, split_dir, ": cannot list the folder: ", ec.message());
  std::sort(index.classes.begin(), index.classes.end());
  LOWBIT_CHECK(!index.classes.empty(), "image folder ", split_dir, ": no class folders in it (expected ", split_dir,
               "/<class>/<image files>)");
  for (size_t label = 0; label < index.classes.size(); ++label) {
    const std::string class_dir = split_dir + "/" + index.classes[label];
    const size_t before = index.paths.size();
    for (const auto& [folder, files] : walk(class_dir)) {
      for (const std::string& f : files) {
        if (is_decodable_image_name(f)) {
          index.paths.push_back(folder + "/" + f);
          index.labels.push_back(static_cast<int32_t>(label));
        } else if (is_other_image_name(f)) {
          index.unsupported.push_back(folder + "/" + f);
        }
      }
    }
    LOWBIT_CHECK(index.paths.size() > before, "image folder ", split_dir, ": class folder ", class_dir,
                 " holds no .jpg, .jpeg or .png file");
  }
  return index;
}

}  // namespace lowbit::data
