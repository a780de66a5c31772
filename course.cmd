@echo off
rem Windows: set up and open the course.  course.cmd open   (also: course.cmd help, course.cmd COMMAND ARGS...)
rem Runs course.py with the Python launcher (py), or with PYTHON if set, or with python on PATH.
setlocal
if defined PYTHON (
  "%PYTHON%" "%~dp0course.py" %*
  exit /b
)
where py >nul 2>nul
if %errorlevel% equ 0 (
  py -3 "%~dp0course.py" %*
) else (
  python "%~dp0course.py" %*
)
exit /b
