#!/bin/sh
# Records the kiosk's voice prompts with espeak-ng (Debian: apt-get install espeak-ng), as
# 16-bit mono WAV files in vi/ and en/. Run from this folder after changing a line below; the
# app embeds the files at build time. The words match the screens (ui/*.slint).
set -eu
say() { # lang voice name text
    mkdir -p "$1"
    espeak-ng -v "$2" -s 140 -p 45 -w "$1/$3.wav" "$4"
}
say vi vi invite "Mời Ông Bà đánh giá mức độ hài lòng. Xin chạm vào một khuôn mặt trên màn hình."
say vi vi choose_again "Mời Ông Bà chọn lại."
say vi vi very_satisfied "Rất hài lòng."
say vi vi satisfied "Hài lòng."
say vi vi neutral "Bình thường."
say vi vi unsatisfied "Không hài lòng."
say vi vi very_unsatisfied "Rất không hài lòng."
say vi vi reasons "Xin Ông Bà cho biết lý do chưa hài lòng. Chọn một hoặc nhiều lý do, rồi bấm Gửi."
say vi vi thanks "Cảm ơn Ông Bà đã đánh giá."
say vi vi save_failure "Xin lỗi, máy chưa lưu được đánh giá. Xin Ông Bà vui lòng báo cán bộ."
say en en-gb invite "Please rate how satisfied you are. Touch one of the faces on the screen."
say en en-gb choose_again "Please choose again."
say en en-gb very_satisfied "Very satisfied."
say en en-gb satisfied "Satisfied."
say en en-gb neutral "Neutral."
say en en-gb unsatisfied "Unsatisfied."
say en en-gb very_unsatisfied "Very unsatisfied."
say en en-gb reasons "Please tell us what went wrong. Choose one or more reasons, then press Send."
say en en-gb thanks "Thank you for your rating."
say en en-gb save_failure "Sorry, your rating could not be saved. Please tell an officer."
