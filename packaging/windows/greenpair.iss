; Inno Setup script: installs PyInstaller's one-folder build (build\package\dist\greenpair)
; to Program Files with a Start-menu entry. Built by .github/workflows/packages.yml:
;   iscc /DAppVersion=0.1.0 packaging\windows\greenpair.iss
; UNTESTED here (written on Linux; the CI workflow runs it on a hosted Windows runner).
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C0F3F51-6A4B-4F0E-9C3B-2B9E7E0B5A11}
AppName=Greenpair
AppVersion={#AppVersion}
AppPublisher=Greenpair developers
DefaultDirName={autopf}\Greenpair
DefaultGroupName=Greenpair
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=Greenpair-{#AppVersion}-setup
SetupIconFile=..\..\assets\greenpair.ico
UninstallDisplayIcon={app}\greenpair.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
; Models and indexes live in %LOCALAPPDATA%\greenpair and stay on uninstall.

[Files]
Source: "..\..\build\package\dist\greenpair\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Greenpair"; Filename: "{app}\greenpair.exe"; Parameters: "gui"; IconFilename: "{app}\greenpair.exe"
Name: "{group}\Uninstall Greenpair"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Greenpair"; Filename: "{app}\greenpair.exe"; Parameters: "gui"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\greenpair.exe"; Parameters: "gui"; Description: "Start Greenpair"; Flags: nowait postinstall skipifsilent
