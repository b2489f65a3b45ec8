// The matrix-operation table of the Nerva specification (§3, Table 1) in plain C++17.
//
// A small row-major dense matrix and one function per operation, with the same names as
// nerva_edu.matrix. It is the reference for the C++ kernels of the sparse chapter and is
// JIT-compiled through cppyy in the book (chapter "Matrix operations"), where every
// function is checked against NumPy. Shape errors throw std::invalid_argument, which
// cppyy turns into a Python exception.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace nerva_edu {

class Matrix {
 public:
  Matrix(long rows, long cols, double value = 0.0)
      : rows_(rows), cols_(cols), values_(static_cast<std::size_t>(rows * cols), value) {
    if (rows < 0 || cols < 0) throw std::invalid_argument("Matrix: negative dimension");
  }

  // A copy of a row-major buffer of rows * cols doubles (a C-contiguous NumPy array).
  Matrix(const double* data, long rows, long cols) : Matrix(rows, cols) {
    std::copy(data, data + rows * cols, values_.begin());
  }

  long rows() const { return rows_; }
  long cols() const { return cols_; }
  double& operator()(long i, long j) { return values_[i * cols_ + j]; }
  double operator()(long i, long j) const { return values_[i * cols_ + j]; }
  double* data() { return values_.data(); }
  const double* data() const { return values_.data(); }

 private:
  long rows_, cols_;
  std::vector<double> values_;
};

inline std::string shape(const Matrix& X) {
  return "(" + std::to_string(X.rows()) + ", " + std::to_string(X.cols()) + ")";
}

inline void require(bool condition, const std::string& op, const std::string& message) {
  if (!condition) throw std::invalid_argument(op + ": " + message);
}

// Element-wise application of f, the building block of the element-wise operations.
template <typename F>
Matrix apply(F f, const Matrix& X) {
  Matrix result(X.rows(), X.cols());
  for (long i = 0; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(i, j) = f(X(i, j));
  return result;
}

// --- construction -----------------------------------------------------------------------

inline Matrix zeros(long m, long n = 1) { return Matrix(m, n, 0.0); }
inline Matrix ones(long m, long n = 1) { return Matrix(m, n, 1.0); }

inline Matrix identity(long n) {
  Matrix result(n, n);
  for (long i = 0; i < n; i++) result(i, i) = 1.0;
  return result;
}

// --- products and transposition -----------------------------------------------------------

inline Matrix transpose(const Matrix& X) {
  Matrix result(X.cols(), X.rows());
  for (long i = 0; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(j, i) = X(i, j);
  return result;
}

// X · Z, written i-k-j so that the inner loop runs along rows of Z and of the result.
inline Matrix product(const Matrix& X, const Matrix& Z) {
  require(X.cols() == Z.rows(), "product", "inner dimensions differ, " + shape(X) + " and " + shape(Z));
  Matrix result(X.rows(), Z.cols());
  for (long i = 0; i < X.rows(); i++)
    for (long k = 0; k < X.cols(); k++)
      for (long j = 0; j < Z.cols(); j++) result(i, j) += X(i, k) * Z(k, j);
  return result;
}

// f applied to the corresponding elements of two matrices of equal shape (op names the operation).
template <typename F>
Matrix combine(F f, const Matrix& X, const Matrix& Y, const std::string& op) {
  require(X.rows() == Y.rows() && X.cols() == Y.cols(), op,
          "shapes must be equal, got " + shape(X) + " and " + shape(Y));
  Matrix result(X.rows(), X.cols());
  for (long i = 0; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(i, j) = f(X(i, j), Y(i, j));
  return result;
}

inline Matrix hadamard(const Matrix& X, const Matrix& Y) {
  return combine([](double x, double y) { return x * y; }, X, Y, "hadamard");
}

// X + Y, X − Y and c·X of Table 1, as the operators Eigen (and Table 2) write them.
inline Matrix operator+(const Matrix& X, const Matrix& Y) {
  return combine([](double x, double y) { return x + y; }, X, Y, "X + Y");
}

inline Matrix operator-(const Matrix& X, const Matrix& Y) {
  return combine([](double x, double y) { return x - y; }, X, Y, "X - Y");
}

// --- diagonals --------------------------------------------------------------------------

inline Matrix diag(const Matrix& X) {
  require(X.rows() == X.cols(), "diag", "expected a square matrix, got shape " + shape(X));
  Matrix result(X.rows(), 1);
  for (long i = 0; i < X.rows(); i++) result(i, 0) = X(i, i);
  return result;
}

inline Matrix Diag(const Matrix& x) {
  require(x.rows() == 1 || x.cols() == 1, "Diag", "expected a row or column vector, got shape " + shape(x));
  long n = std::max(x.rows(), x.cols());
  Matrix result(n, n);
  for (long i = 0; i < n; i++) result(i, i) = x.data()[i];
  return result;
}

// --- sums, repeats, reductions -----------------------------------------------------------

inline double elements_sum(const Matrix& X) {
  double sum = 0.0;
  for (long k = 0; k < X.rows() * X.cols(); k++) sum += X.data()[k];
  return sum;
}

inline Matrix column_repeat(const Matrix& x, long n) {
  require(x.cols() == 1, "column_repeat", "expected a column vector (m×1), got shape " + shape(x));
  Matrix result(x.rows(), n);
  for (long i = 0; i < x.rows(); i++)
    for (long j = 0; j < n; j++) result(i, j) = x(i, 0);
  return result;
}

inline Matrix row_repeat(const Matrix& x, long m) {
  require(x.rows() == 1, "row_repeat", "expected a row vector (1×n), got shape " + shape(x));
  Matrix result(m, x.cols());
  for (long i = 0; i < m; i++)
    for (long j = 0; j < x.cols(); j++) result(i, j) = x(0, j);
  return result;
}

inline Matrix columns_sum(const Matrix& X) {
  Matrix result(1, X.cols());
  for (long i = 0; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(0, j) += X(i, j);
  return result;
}

inline Matrix rows_sum(const Matrix& X) {
  Matrix result(X.rows(), 1);
  for (long i = 0; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(i, 0) += X(i, j);
  return result;
}

inline Matrix columns_max(const Matrix& X) {
  require(X.rows() > 0, "columns_max", "a matrix with no rows has no column maxima");
  Matrix result(X.data(), 1, X.cols());  // the first row
  for (long i = 1; i < X.rows(); i++)
    for (long j = 0; j < X.cols(); j++) result(0, j) = std::max(result(0, j), X(i, j));
  return result;
}

inline Matrix rows_max(const Matrix& X) {
  require(X.cols() > 0, "rows_max", "a matrix with no columns has no row maxima");
  Matrix result(X.rows(), 1);
  for (long i = 0; i < X.rows(); i++) result(i, 0) = *std::max_element(&X.data()[i * X.cols()],
                                                                      &X.data()[(i + 1) * X.cols()]);
  return result;
}

// The mean of a column divides by the number of rows m (Table 1 prints n: see the errata).
inline Matrix columns_mean(const Matrix& X) {
  return apply([&](double s) { return s / X.rows(); }, columns_sum(X));
}

// The mean of a row divides by the number of columns n (Table 1 prints m: see the errata).
inline Matrix rows_mean(const Matrix& X) {
  return apply([&](double s) { return s / X.cols(); }, rows_sum(X));
}

// --- element-wise functions -------------------------------------------------------------

inline Matrix operator*(double c, const Matrix& X) { return apply([=](double x) { return c * x; }, X); }

inline Matrix exp(const Matrix& X) { return apply([](double x) { return std::exp(x); }, X); }
inline Matrix log(const Matrix& X) { return apply([](double x) { return std::log(x); }, X); }
inline Matrix reciprocal(const Matrix& X) { return apply([](double x) { return 1.0 / x; }, X); }
inline Matrix sqrt(const Matrix& X) { return apply([](double x) { return std::sqrt(x); }, X); }

inline Matrix inv_sqrt(const Matrix& X, double epsilon = 0.0) {
  return apply([=](double x) { return 1.0 / std::sqrt(x + epsilon); }, X);
}

// log(σ(x)) = min(x, 0) − log(1 + e^(−|x|)): no overflow for large |x|.
inline Matrix log_sigmoid(const Matrix& X) {
  return apply([](double x) { return std::min(x, 0.0) - std::log1p(std::exp(-std::abs(x))); }, X);
}

}  // namespace nerva_edu
