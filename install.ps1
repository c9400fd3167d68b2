# Installs the isartor binary on Windows from the project's GitHub releases.
#
#   irm https://raw.githubusercontent.com/isartor-dev/isartor/main/install.ps1 | iex
#   .\install.ps1 [-Prefix DIR] [-Version X.Y.Z]
#
# Environment: ISARTOR_REPO (owner/name, default isartor-dev/isartor), ISARTOR_VERSION
# (default: the latest release), ISARTOR_INSTALL_DIR (default: ~\.isartor\bin),
# ISARTOR_DOWNLOAD_BASE (a mirror holding the release assets, instead of GitHub).
#
# Before anything is installed, the release's SHA256SUMS must carry a valid minisign
# signature (SHA256SUMS.minisig) by the release key below, checked with minisign.exe
# (winget install jedisct1.minisign, scoop install minisign or choco install minisign:
# Windows has no Ed25519 of its own), and the binary must match its SHA-256 there.
# -SkipSignature checks the SHA-256 alone (not recommended). By hand: docs/install.md.

param(
  [string]$Prefix = "",
  [string]$Version = "",
  [switch]$SkipSignature
)

# The release signing key (minisign); the same as cli/update/release_key.ts.
$ReleasePublicKey = "RWSekuMD03qWbXnIvsJyn6CyUFn+5udh4B4O+UZHYs3dlL6KHa/R+hCe"

function Install-Isartor([string]$Prefix, [string]$Version, [bool]$SkipSignature) {
  Set-StrictMode -Version Latest
  $ErrorActionPreference = "Stop"
  $ProgressPreference = "SilentlyContinue"  # the progress bar makes downloads slow
  $Repo = if ($env:ISARTOR_REPO) { $env:ISARTOR_REPO } else { "isartor-dev/isartor" }
  if (-not $Version) { $Version = if ($env:ISARTOR_VERSION) { $env:ISARTOR_VERSION } else { "latest" } }
  if (-not $Prefix) {
    $Prefix = if ($env:ISARTOR_INSTALL_DIR) { $env:ISARTOR_INSTALL_DIR } else { Join-Path $HOME ".isartor\bin" }
  }
  $Checksums = "SHA256SUMS"
  $RepoName = ($Repo -split "/")[-1]

  function Show-FromSource {
    Write-Host ""
    Write-Host "Run isartor from a clone instead (needs Node.js and npm):"
    Write-Host "  git clone https://github.com/$Repo.git; cd $RepoName"
    Write-Host "  npx -y deno@2.9.6 task up"
  }

  # The asset names match `deno task compile` (dist/isartor-<os>-<arch>).
  $Arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString()
  if ($Arch -ne "X64") {
    Write-Host "isartor install: no prebuilt Windows binary for $Arch (only x64)."
    Show-FromSource
    throw "isartor install: no prebuilt binary for this platform"
  }
  $Asset = "isartor-windows-x64.exe"

  if ($env:ISARTOR_DOWNLOAD_BASE) {
    $Base = $env:ISARTOR_DOWNLOAD_BASE.TrimEnd("/")
  } elseif ($Version -eq "latest") {
    $Base = "https://github.com/$Repo/releases/latest/download"
  } else {
    $Base = "https://github.com/$Repo/releases/download/v$($Version.TrimStart('v'))"
  }

  $Tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("isartor-" + [System.Guid]::NewGuid().ToString("N"))
  New-Item -ItemType Directory -Path $Tmp | Out-Null
  try {
    $BinPath = Join-Path $Tmp $Asset
    $SumsPath = Join-Path $Tmp $Checksums
    Write-Host "Downloading $Asset ($Version) from $Base ..."
    try {
      Invoke-WebRequest -UseBasicParsing -Uri "$Base/$Asset" -OutFile $BinPath
    } catch {
      Write-Host "isartor install: no release binary $Asset at $Base."
      Show-FromSource
      throw "isartor install: no release binary $Asset at $Base"
    }
    try {
      Invoke-WebRequest -UseBasicParsing -Uri "$Base/$Checksums" -OutFile $SumsPath
    } catch {
      throw "isartor install: cannot download $Checksums from ${Base}: the binary cannot be verified, not installing"
    }

    if ($SkipSignature -or $env:ISARTOR_INSTALL_SKIP_SIGNATURE) {
      Write-Warning "-SkipSignature: the signature of $Checksums is not checked."
    } else {
      $SigPath = "$SumsPath.minisig"
      try {
        Invoke-WebRequest -UseBasicParsing -Uri "$Base/$Checksums.minisig" -OutFile $SigPath
      } catch {
        throw "isartor install: cannot download $Checksums.minisig from ${Base}: the release cannot be verified, not installing"
      }
      $Minisign = Get-Command minisign -ErrorAction SilentlyContinue
      if (-not $Minisign) {
        throw "isartor install: verifying the release needs minisign (winget install jedisct1.minisign, or scoop install minisign); or rerun with -SkipSignature to rely on the SHA-256 alone"
      }
      & $Minisign.Source -Vq -m $SumsPath -x $SigPath -P $ReleasePublicKey | Out-Null
      if ($LASTEXITCODE -ne 0) {
        throw "isartor install: the signature of $Checksums does not verify with the release key: not installing"
      }
      Write-Host "Signature verified (minisign, release key)."
    }

    $Expected = $null
    foreach ($Line in Get-Content $SumsPath) {
      $Parts = $Line.Trim() -split "\s+"
      if ($Parts.Count -ge 2 -and ($Parts[1] -eq $Asset -or $Parts[1] -eq "*$Asset")) {
        $Expected = $Parts[0].ToLowerInvariant()
        break
      }
    }
    if (-not $Expected) {
      throw "isartor install: $Checksums has no entry for ${Asset}: not installing"
    }
    $Actual = (Get-FileHash -Algorithm SHA256 -Path $BinPath).Hash.ToLowerInvariant()
    if ($Expected -ne $Actual) {
      throw "isartor install: checksum mismatch for $Asset (expected $Expected, got $Actual): not installing"
    }
    Write-Host "Checksum verified (SHA-256 $Actual)."

    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    $Target = Join-Path $Prefix "isartor.exe"
    Move-Item -Force -Path $BinPath -Destination $Target
    Write-Host "Installed $Target"
  } finally {
    Remove-Item -Recurse -Force -Path $Tmp -ErrorAction SilentlyContinue
  }

  Write-Host ""
  Write-Host "Next steps:"
  $UserPath = [Environment]::GetEnvironmentVariable("Path", "User")
  if (-not $UserPath -or -not (($UserPath -split ";") -contains $Prefix)) {
    Write-Host "  Add it to your PATH:"
    Write-Host "    [Environment]::SetEnvironmentVariable('Path', `"$Prefix;`$([Environment]::GetEnvironmentVariable('Path', 'User'))`", 'User')"
    Write-Host "  (then open a new terminal)"
  }
  Write-Host "  isartor --version"
  Write-Host "  isartor up            # starts the gateway on http://127.0.0.1:8080"
  Write-Host "  Then point clients at http://127.0.0.1:8080/v1 (OpenAI) or http://127.0.0.1:8080 (Anthropic)."
  Write-Host "  Configuration: https://github.com/$Repo/blob/main/docs/configuration.md"
}

Install-Isartor -Prefix $Prefix -Version $Version -SkipSignature $SkipSignature.IsPresent
