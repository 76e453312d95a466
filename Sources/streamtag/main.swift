import StreamTagCore
print("streamtag")
